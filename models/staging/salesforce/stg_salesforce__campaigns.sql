with

campaigns as (
    select * from {{ ref('base_salesforce__campaign') }}
),

final as (
    select
        source_row_number,
        {{ crm_kpi.salesforce_id('id') }} as campaign_id,
        name as campaign_name,
        {{ crm_kpi.salesforce_picklist('type', 'channel') }} as channel,
        region_c as region,
        start_date as started_on,
        end_date as ended_on,
        budgeted_cost as budget,
        {{ crm_kpi.salesforce_currency('currency_iso_code') }} as currency,
        last_modified_date as updated_at,
        is_deleted
    from campaigns
)

select * from final
