{#-
    Reconciliation (C1): per month, active customers and MRR summed over cohorts equal the accounts
    and the MRR of the staging subscription periods that cover the month's snapshot date.
-#}
with

months as (
    select * from {{ ref('int_months_spined') }}
),

staging_active as (
    select
        months.month_start,
        count(distinct subscriptions.account_id) as active_customers,
        sum(subscriptions.mrr) as mrr
    from {{ ref('stg_crm__subscriptions') }} as subscriptions
    inner join {{ ref('stg_crm__accounts') }} as staged_accounts
        on subscriptions.account_id = staged_accounts.account_id
    inner join months
        on
            subscriptions.period_start <= months.snapshot_date
            and (subscriptions.period_end > months.snapshot_date or subscriptions.period_end is null)
    group by 1
),

mart_active as (
    select
        month as month_start,
        sum(active_customers) as active_customers,
        sum(mrr) as mrr,
        count(*) as mart_rows
    from {{ ref('kpi_churn_by_cohort') }}
    group by 1
)

select
    coalesce(staging_active.month_start, mart_active.month_start) as month_start,
    staging_active.active_customers as staging_active_customers,
    mart_active.active_customers as mart_active_customers,
    staging_active.mrr as staging_mrr,
    mart_active.mrr as mart_mrr
from staging_active
full outer join mart_active
    on staging_active.month_start = mart_active.month_start
where
    coalesce(staging_active.active_customers, 0) <> coalesce(mart_active.active_customers, 0)
    or abs(coalesce(staging_active.mrr, 0) - coalesce(mart_active.mrr, 0))
    > 0.005 * (coalesce(mart_active.mart_rows, 0) + 1)
