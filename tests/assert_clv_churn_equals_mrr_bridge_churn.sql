{#-
    C6 agrees with C2: the customers lost and the customers active at the start of the month, summed
    over the cohorts (all channels) of kpi_customer_lifetime_value, equal the same counts of the MRR
    bridge (kpi_mrr_movements, total, months) summed over the trailing window (var clv_trailing_months,
    up to and including the as-of month).
-#}
with

as_of_dates as (
    select * from {{ ref('int_as_of_dates') }}
),

bridge as (
    select
        coalesce(sum(movements.churned_customers), 0) as churned_customers,
        coalesce(sum(movements.customers_at_start), 0) as customers_at_start
    from {{ ref('kpi_mrr_movements') }} as movements
    cross join as_of_dates
    where
        movements.period_type = 'month'
        and movements.breakdown = 'total'
        and movements.period_start > cast({{ dbt.dateadd('month', 0 - crm_kpi.checked_var('clv_trailing_months'), 'as_of_dates.as_of_month') }} as date)
        and movements.period_start <= as_of_dates.as_of_month
),

lifetime_values as (
    select
        coalesce(sum(churned_customers), 0) as churned_customers,
        coalesce(sum(customer_months_at_start), 0) as customers_at_start
    from {{ ref('kpi_customer_lifetime_value') }}
    where acquisition_channel = 'all'
)

select
    bridge.churned_customers as bridge_churned,
    lifetime_values.churned_customers as clv_churned,
    bridge.customers_at_start as bridge_customers_at_start,
    lifetime_values.customers_at_start as clv_customers_at_start
from bridge
cross join lifetime_values
where
    bridge.churned_customers <> lifetime_values.churned_customers
    or bridge.customers_at_start <> lifetime_values.customers_at_start
