with

leads as (
    select * from {{ ref('base_salesforce__lead') }}
),

final as (
    select
        source_row_number,
        {{ crm_kpi.salesforce_id('id') }} as lead_id,
        created_date as created_at,
        {{ crm_kpi.salesforce_id('source_campaign_c') }} as source_campaign_id,
        {{ crm_kpi.salesforce_picklist('lead_source', 'channel') }} as channel,
        {{ crm_kpi.salesforce_id('owner_id') }} as owner_user_id,
        region_c as region,
        country_code as country,
        company,
        first_name,
        last_name,
        email,
        phone,
        {{ crm_kpi.salesforce_picklist('status', 'lead_status') }} as status,
        {{ crm_kpi.salesforce_id('converted_account_id') }} as converted_account_id,
        {{ crm_kpi.salesforce_id('converted_opportunity_id') }} as converted_opportunity_id,
        converted_date as converted_at,
        last_modified_date as updated_at,
        is_deleted
    from leads
)

select * from final
