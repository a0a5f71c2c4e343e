with

campaign_members as (
    select * from {{ ref('base_salesforce__campaign_member') }}
    where not {{ crm_kpi.salesforce_is_true('is_deleted') }}
),

final as (
    select
        source_row_number,
        {{ crm_kpi.salesforce_id('id') }} as touch_id,
        {{ crm_kpi.salesforce_id('campaign_id') }} as campaign_id,
        {{ crm_kpi.salesforce_id('lead_id') }} as lead_id,
        created_date as touched_at,
        {{ crm_kpi.salesforce_picklist('status', 'touch_type') }} as touch_type
    from campaign_members
)

select * from final
