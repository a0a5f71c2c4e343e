with

periods as (
    select * from {{ ref('int_periods_spined') }}
),

account_months as (
    select * from {{ ref('int_subscription_months') }}
),

product_months as (
    select * from {{ ref('int_subscription_product_months') }}
),

customers as (
    select * from {{ ref('int_customers_segmented') }}
),

bridge_periods as (
    select
        period_type,
        period_start,
        period_end,
        cast({{ dbt.dateadd('month', -1, 'period_start') }} as date) as start_month,
        {{ crm_kpi.month_of('snapshot_date') }} as end_month
    from periods
    where period_type in ('month', 'quarter')
),

{# Each account's and each account-product's state at the start and at the end of the period. -#}
entity_periods as (
    {%- for level, months, product_id, first_month, keys in [
        ('account', 'account_months', 'cast(null as ' ~ dbt.type_string() ~ ') as product_id', 'end_snapshots.cohort_month as first_active_month', ['account_id']),
        ('product', 'product_months', 'end_snapshots.product_id', 'end_snapshots.first_active_month', ['account_id', 'product_id']),
    ] %}
    select
        '{{ level }}' as entity_level,
        bridge_periods.period_type,
        bridge_periods.period_start,
        end_snapshots.account_id,
        {{ product_id }},
        {{ first_month }},
        coalesce(start_snapshots.is_active, false) as was_active,
        coalesce(start_snapshots.mrr, 0) as start_mrr,
        end_snapshots.is_active,
        end_snapshots.mrr as end_mrr
    from bridge_periods
    inner join {{ months }} as end_snapshots
        on bridge_periods.end_month = end_snapshots.month_start
    left join {{ months }} as start_snapshots
        on
            bridge_periods.start_month = start_snapshots.month_start
            {%- for key in keys %}
            and end_snapshots.{{ key }} = start_snapshots.{{ key }}
            {%- endfor %}
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
),

classified as (
    select
        entity_level,
        period_type,
        period_start,
        account_id,
        product_id,
        case when was_active then 1 else 0 end as is_customer_at_start,
        case when is_active then 1 else 0 end as is_customer_at_end,
        case when is_active and not was_active and first_active_month >= period_start then 1 else 0 end as is_new,
        case when is_active and not was_active and first_active_month < period_start then 1 else 0 end as is_reactivated,
        case when was_active and not is_active then 1 else 0 end as is_churned,
        case when was_active then start_mrr else 0 end as start_mrr,
        case when is_active then end_mrr else 0 end as end_mrr,
        case when is_active and not was_active and first_active_month >= period_start then end_mrr else 0 end as new_mrr,
        case when is_active and was_active and end_mrr > start_mrr then end_mrr - start_mrr else 0 end as expansion_mrr,
        case when is_active and was_active and end_mrr < start_mrr then start_mrr - end_mrr else 0 end as contraction_mrr,
        case when was_active and not is_active then start_mrr else 0 end as churned_mrr,
        case when is_active and not was_active and first_active_month < period_start then end_mrr else 0 end as reactivated_mrr
    from entity_periods
),

segmented as (
    select
        'total' as breakdown,
        'all' as segment,
        classified.*
    from classified
    where classified.entity_level = 'account'
    {%- for breakdown, column in [('channel', 'acquisition_channel'), ('region', 'region')] %}
    union all
    select
        '{{ breakdown }}' as breakdown,
        customers.{{ column }} as segment,
        classified.*
    from classified
    inner join customers
        on classified.account_id = customers.account_id
    where classified.entity_level = 'account'
    {%- endfor %}
    union all
    select
        'product' as breakdown,
        classified.product_id as segment,
        classified.*
    from classified
    where classified.entity_level = 'product'
),

movements as (
    select
        period_type,
        period_start,
        breakdown,
        segment,
        sum(is_customer_at_start) as customers_at_start,
        sum(is_new) as new_customers,
        sum(is_reactivated) as reactivated_customers,
        sum(is_churned) as churned_customers,
        sum(is_customer_at_end) as customers_at_end,
        sum(start_mrr) as starting_mrr,
        sum(new_mrr) as new_mrr,
        sum(expansion_mrr) as expansion_mrr,
        sum(contraction_mrr) as contraction_mrr,
        sum(churned_mrr) as churned_mrr,
        sum(reactivated_mrr) as reactivated_mrr,
        sum(end_mrr) as ending_mrr
    from segmented
    group by
        period_type,
        period_start,
        breakdown,
        segment
),

segments as (
    select distinct
        breakdown,
        segment
    from segmented
),

spine as (
    select
        bridge_periods.period_type,
        bridge_periods.period_start,
        bridge_periods.period_end,
        segments.breakdown,
        segments.segment
    from bridge_periods
    cross join segments
),

rounded as (
    select
        spine.period_type,
        spine.period_start,
        spine.period_end,
        spine.breakdown,
        spine.segment,
        {%- for column in ['customers_at_start', 'new_customers', 'reactivated_customers', 'churned_customers', 'customers_at_end'] %}
        cast(coalesce(movements.{{ column }}, 0) as {{ dbt.type_bigint() }}) as {{ column }},
        {%- endfor %}
        {%- for column in ['starting_mrr', 'new_mrr', 'expansion_mrr', 'contraction_mrr', 'churned_mrr', 'reactivated_mrr'] %}
        {{ crm_kpi.money('coalesce(movements.' ~ column ~ ', 0)') }} as {{ column }},
        {%- endfor %}
        {{ crm_kpi.money('coalesce(movements.ending_mrr, 0) - coalesce(movements.starting_mrr, 0)') }} as net_new_mrr,
        {{ crm_kpi.money('coalesce(movements.ending_mrr, 0)') }} as ending_mrr
    from spine
    left join movements
        on
            spine.period_type = movements.period_type
            and spine.period_start = movements.period_start
            and spine.breakdown = movements.breakdown
            and spine.segment = movements.segment
),

final as (
    select
        rounded.*,
        {{ crm_kpi.safe_divide('rounded.churned_customers', 'rounded.customers_at_start') }} as logo_churn_rate,
        {{ crm_kpi.safe_divide('rounded.customers_at_end - rounded.new_customers - rounded.reactivated_customers', 'rounded.customers_at_start') }} as customer_retention_rate,
        {{ crm_kpi.safe_divide('rounded.churned_mrr + rounded.contraction_mrr', 'rounded.starting_mrr') }} as gross_revenue_churn_rate,
        {{ crm_kpi.safe_divide('rounded.churned_mrr + rounded.contraction_mrr - rounded.expansion_mrr', 'rounded.starting_mrr') }} as net_revenue_churn_rate
    from rounded
)

select * from final
