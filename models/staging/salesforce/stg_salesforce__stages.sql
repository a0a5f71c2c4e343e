{#- DefaultProbability is a percent in Salesforce, a fraction in the contract. -#}
with

opportunity_stages as (
    select * from {{ ref('base_salesforce__opportunity_stage') }}
),

final as (
    select
        source_row_number,
        {{ crm_kpi.salesforce_picklist('master_label', 'stage') }} as stage,
        sort_order,
        {{ crm_kpi.salesforce_percent('default_probability') }} as probability,
        is_closed,
        is_won
    from opportunity_stages
)

select * from final
