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

account_periods as (
    select
        bridge_periods.period_type,
        bridge_periods.period_start,
        end_snapshots.account_id,
        cast(null as {{ dbt.type_string() }}) as product_id,
        end_snapshots.cohort_month as first_active_month,
        coalesce(start_snapshots.is_active, false) as was_active,
        coalesce(start_snapshots.mrr, 0) as start_mrr,
        end_snapshots.is_active,
        end_snapshots.mrr as end_mrr
    from bridge_periods
    inner join account_months as end_snapshots
        on bridge_periods.end_month = end_snapshots.month_start
    left join account_months as start_snapshots
        on
            end_snapshots.account_id = start_snapshots.account_id
            and bridge_periods.start_month = start_snapshots.month_start
),

product_periods as (
    select
        bridge_periods.period_type,
        bridge_periods.period_start,
        end_snapshots.account_id,
        end_snapshots.product_id,
        end_snapshots.first_active_month,
        coalesce(start_snapshots.is_active, false) as was_active,
        coalesce(start_snapshots.mrr, 0) as start_mrr,
        end_snapshots.is_active,
        end_snapshots.mrr as end_mrr
    from bridge_periods
    inner join product_months as end_snapshots
        on bridge_periods.end_month = end_snapshots.month_start
    left join product_months as start_snapshots
        on
            end_snapshots.account_id = start_snapshots.account_id
            and end_snapshots.product_id = start_snapshots.product_id
            and bridge_periods.start_month = start_snapshots.month_start
),

entity_periods as (
    select
        'account' as entity_level,
        *
    from account_periods
    union all
    select
        'product' as entity_level,
        *
    from product_periods
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
    union all
    select
        'channel' as breakdown,
        customers.acquisition_channel as segment,
        classified.*
    from classified
    inner join customers
        on classified.account_id = customers.account_id
    where classified.entity_level = 'account'
    union all
    select
        'region' as breakdown,
        customers.region as segment,
        classified.*
    from classified
    inner join customers
        on classified.account_id = customers.account_id
    where classified.entity_level = 'account'
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
        cast(coalesce(movements.customers_at_start, 0) as {{ dbt.type_bigint() }}) as customers_at_start,
        cast(coalesce(movements.new_customers, 0) as {{ dbt.type_bigint() }}) as new_customers,
        cast(coalesce(movements.reactivated_customers, 0) as {{ dbt.type_bigint() }}) as reactivated_customers,
        cast(coalesce(movements.churned_customers, 0) as {{ dbt.type_bigint() }}) as churned_customers,
        cast(coalesce(movements.customers_at_end, 0) as {{ dbt.type_bigint() }}) as customers_at_end,
        {{ crm_kpi.money('coalesce(movements.starting_mrr, 0)') }} as starting_mrr,
        {{ crm_kpi.money('coalesce(movements.new_mrr, 0)') }} as new_mrr,
        {{ crm_kpi.money('coalesce(movements.expansion_mrr, 0)') }} as expansion_mrr,
        {{ crm_kpi.money('coalesce(movements.contraction_mrr, 0)') }} as contraction_mrr,
        {{ crm_kpi.money('coalesce(movements.churned_mrr, 0)') }} as churned_mrr,
        {{ crm_kpi.money('coalesce(movements.reactivated_mrr, 0)') }} as reactivated_mrr,
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
        period_type,
        period_start,
        period_end,
        breakdown,
        segment,
        customers_at_start,
        new_customers,
        reactivated_customers,
        churned_customers,
        customers_at_end,
        starting_mrr,
        new_mrr,
        expansion_mrr,
        contraction_mrr,
        churned_mrr,
        reactivated_mrr,
        net_new_mrr,
        ending_mrr,
        {{ crm_kpi.safe_divide('churned_customers', 'customers_at_start') }} as logo_churn_rate,
        {{ crm_kpi.safe_divide('customers_at_end - new_customers - reactivated_customers', 'customers_at_start') }} as customer_retention_rate,
        {{ crm_kpi.safe_divide('churned_mrr + contraction_mrr', 'starting_mrr') }} as gross_revenue_churn_rate,
        {{ crm_kpi.safe_divide('churned_mrr + contraction_mrr - expansion_mrr', 'starting_mrr') }} as net_revenue_churn_rate
    from rounded
)

select * from final
