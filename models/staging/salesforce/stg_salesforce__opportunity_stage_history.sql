with

opportunity_history as (
    select * from {{ ref('base_salesforce__opportunity_history') }}
    where not {{ crm_kpi.salesforce_is_true('is_deleted') }}
),

final as (
    select
        source_row_number,
        {{ crm_kpi.salesforce_id('opportunity_id') }} as opportunity_id,
        {{ crm_kpi.salesforce_picklist('stage_name', 'stage') }} as stage,  -- noqa: RF04
        amount,
        close_date,
        created_date as changed_at
    from opportunity_history
)

select * from final
