{#-
    One row per account and month, from the account's first active month to the as-of month: its MRR
    at the month's snapshot date and whether it is active (see the subscription_months docs block).
-#}
with

subscriptions as (
    select * from {{ ref('stg_crm__subscriptions') }}
),

accounts as (
    select account_id from {{ ref('stg_crm__accounts') }}
),

months as (
    select * from {{ ref('int_months_spined') }}
),

active_periods as (
    select
        subscriptions.account_id,
        months.month_start,
        sum({{ crm_kpi.money('subscriptions.mrr') }}) as mrr,
        count(*) as active_subscription_periods
    from subscriptions
    inner join accounts
        on subscriptions.account_id = accounts.account_id
    inner join months
        on
            subscriptions.period_start <= months.snapshot_date
            and coalesce(subscriptions.period_end, cast('9999-12-31' as date)) > months.snapshot_date
    group by
        subscriptions.account_id,
        months.month_start
),

first_active_months as (
    select
        account_id,
        min(month_start) as cohort_month
    from active_periods
    group by account_id
),

account_months as (
    select
        first_active_months.account_id,
        first_active_months.cohort_month,
        months.month_start,
        months.snapshot_date
    from first_active_months
    inner join months
        on first_active_months.cohort_month <= months.month_start
),

final as (
    select
        account_months.account_id,
        account_months.month_start,
        account_months.snapshot_date,
        account_months.cohort_month,
        cast({{ dbt.datediff('account_months.cohort_month', 'account_months.month_start', 'month') }} as integer) as months_since_start,
        cast(coalesce(active_periods.mrr, 0) as decimal(18, 2)) as mrr,
        active_periods.account_id is not null as is_active
    from account_months
    left join active_periods
        on
            account_months.account_id = active_periods.account_id
            and account_months.month_start = active_periods.month_start
)

select * from final
