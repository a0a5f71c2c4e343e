{#
    The object OpportunityHistory (a row per change: OpportunityId, CreatedDate the change's time), or
    Fivetran's history mode of Opportunity (a version per change: Id, _fivetran_start its time).
#}
with

opportunity_history as (
    select * from {{ ref('base_salesforce__opportunity_history') }}
    where not {{ crm_kpi.salesforce_is_true('is_deleted') }}
),

final as (
    select
        source_row_number,
        {{ crm_kpi.salesforce_id('coalesce(opportunity_id, id)') }} as opportunity_id,
        {{ crm_kpi.salesforce_picklist('stage_name', 'stage') }} as stage,  -- noqa: RF04
        amount,
        close_date,
        coalesce(fivetran_start, created_date) as changed_at
    from opportunity_history
)

select * from final
