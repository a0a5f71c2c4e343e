{#-
    One row per account, product and month, from the month the account first had the product active to
    the as-of month: the product's MRR at the month's snapshot date and whether it is active (the
    subscription months rule of int_subscription_months, per product). The MRR movements per product
    are classified on these rows.
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
        subscriptions.product_id,
        months.month_start,
        sum({{ crm_kpi.money('subscriptions.mrr') }}) as mrr
    from subscriptions
    inner join accounts
        on subscriptions.account_id = accounts.account_id
    inner join months
        on
            subscriptions.period_start <= months.snapshot_date
            and coalesce(subscriptions.period_end, cast('9999-12-31' as date)) > months.snapshot_date
    group by
        subscriptions.account_id,
        subscriptions.product_id,
        months.month_start
),

first_active_months as (
    select
        account_id,
        product_id,
        min(month_start) as first_active_month
    from active_periods
    group by
        account_id,
        product_id
),

product_months as (
    select
        first_active_months.account_id,
        first_active_months.product_id,
        first_active_months.first_active_month,
        months.month_start
    from first_active_months
    inner join months
        on first_active_months.first_active_month <= months.month_start
),

final as (
    select
        product_months.account_id,
        product_months.product_id,
        product_months.month_start,
        product_months.first_active_month,
        cast(coalesce(active_periods.mrr, 0) as decimal(18, 2)) as mrr,
        active_periods.account_id is not null as is_active
    from product_months
    left join active_periods
        on
            product_months.account_id = active_periods.account_id
            and product_months.product_id = active_periods.product_id
            and product_months.month_start = active_periods.month_start
)

select * from final
