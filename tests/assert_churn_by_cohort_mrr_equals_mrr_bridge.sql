{#-
    C1 agrees with C4: per month, the MRR and the active customers of the cohorts
    (kpi_churn_by_cohort) summed over the cohorts equal the MRR and the customers at the close of the
    month in the MRR bridge (kpi_mrr_movements, total). Money is rounded per cohort row: half a cent of
    tolerance per row.
-#}
with

cohorts as (
    select
        month as month_start,
        sum(active_customers) as active_customers,
        sum(mrr) as mrr,
        count(*) as cohort_rows
    from {{ ref('kpi_churn_by_cohort') }}
    group by month
),

bridge as (
    select
        period_start as month_start,
        customers_at_end,
        ending_mrr
    from {{ ref('kpi_mrr_movements') }}
    where
        period_type = 'month'
        and breakdown = 'total'
)

select
    coalesce(cohorts.month_start, bridge.month_start) as month_start,
    cohorts.active_customers,
    bridge.customers_at_end,
    cohorts.mrr,
    bridge.ending_mrr
from cohorts
full outer join bridge
    on cohorts.month_start = bridge.month_start
where
    coalesce(cohorts.active_customers, 0) <> coalesce(bridge.customers_at_end, 0)
    or abs(coalesce(cohorts.mrr, 0) - coalesce(bridge.ending_mrr, 0)) > 0.005 * (coalesce(cohorts.cohort_rows, 0) + 1)
