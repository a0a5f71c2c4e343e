{#- DefaultProbability is a percent in Salesforce, a fraction in the contract. -#}
with

opportunity_stages as (
    select
        *,
        {{ crm_kpi.salesforce_picklist('master_label', 'stage') }} as stage_value
    from {{ ref('base_salesforce__opportunity_stage') }}
),

final as (
    select
        source_row_number,
        stage_value as stage,  -- noqa: RF04
        sort_order,
        {{ crm_kpi.salesforce_percent('default_probability') }} as probability,
        is_closed,
        is_won
    from opportunity_stages
)

select * from final
