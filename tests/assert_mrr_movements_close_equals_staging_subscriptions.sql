{#-
    Reconciliation (C4, C2, C3): per period (month, quarter) and breakdown, the customers and MRR at the
    close summed over the segments equal the staging subscription periods that cover the period's
    closing snapshot (accounts in staging): the distinct accounts for total, channel and region (each
    account in exactly one segment), the distinct account and product pairs for product. Each
    subscription period's MRR is rounded to the cent (as int_subscription_months reads it): the MRR
    totals are sums of cents, equal to the cent.
-#}
with

periods as (
    select * from {{ ref('int_periods_spined') }}
    where period_type in ('month', 'quarter')
),

covering as (
    select
        periods.period_type,
        periods.period_start,
        subscriptions.account_id,
        subscriptions.product_id,
        {{ crm_kpi.money('subscriptions.mrr') }} as mrr
    from {{ ref('stg_crm__subscriptions') }} as subscriptions
    inner join {{ ref('stg_crm__accounts') }} as staged_accounts
        on subscriptions.account_id = staged_accounts.account_id
    inner join periods
        on
            subscriptions.period_start <= periods.snapshot_date
            and (subscriptions.period_end > periods.snapshot_date or subscriptions.period_end is null)
),

staging_accounts as (
    select
        period_type,
        period_start,
        count(distinct account_id) as account_count,
        sum(mrr) as mrr
    from covering
    group by
        period_type,
        period_start
),

staging_pairs as (
    select
        period_type,
        period_start,
        count(*) as pairs
    from (
        select distinct
            period_type,
            period_start,
            account_id,
            product_id
        from covering
    ) as distinct_pairs
    group by
        period_type,
        period_start
),

mart_close as (
    select
        period_type,
        period_start,
        breakdown,
        sum(customers_at_end) as customers,
        sum(ending_mrr) as mrr
    from {{ ref('kpi_mrr_movements') }}
    group by
        period_type,
        period_start,
        breakdown
)

select
    mart_close.period_type,
    mart_close.period_start,
    mart_close.breakdown,
    mart_close.customers,
    staging_accounts.account_count,
    staging_pairs.pairs,
    mart_close.mrr,
    staging_accounts.mrr as staging_mrr
from mart_close
left join staging_accounts
    on
        mart_close.period_type = staging_accounts.period_type
        and mart_close.period_start = staging_accounts.period_start
left join staging_pairs
    on
        mart_close.period_type = staging_pairs.period_type
        and mart_close.period_start = staging_pairs.period_start
where
    mart_close.customers <> case
        when mart_close.breakdown = 'product' then coalesce(staging_pairs.pairs, 0)
        else coalesce(staging_accounts.account_count, 0)
    end
    or mart_close.mrr <> coalesce(staging_accounts.mrr, 0)
