{#-
    One row per account and month, from the account's first active month to the as-of month: its MRR
    at the month's snapshot date and whether it is active (see the subscription_months docs block).
    The sum of the account's product months (int_subscription_product_months), where the rule is
    written once: the MRR sums, the account is active when one of its products is, and its first
    active month is the earliest of its products' (that product has a row in every later month).
-#}
with

product_months as (
    select * from {{ ref('int_subscription_product_months') }}
),

months as (
    select * from {{ ref('int_months_spined') }}
),

account_months as (
    select
        account_id,
        month_start,
        min(first_active_month) as cohort_month,
        sum(mrr) as mrr,
        sum(case when is_active then 1 else 0 end) as active_products
    from product_months
    group by
        account_id,
        month_start
),

final as (
    select
        account_months.account_id,
        account_months.month_start,
        months.snapshot_date,
        account_months.cohort_month,
        cast({{ dbt.datediff('account_months.cohort_month', 'account_months.month_start', 'month') }} as integer) as months_since_start,
        cast(account_months.mrr as decimal(18, 2)) as mrr,
        account_months.active_products > 0 as is_active
    from account_months
    inner join months
        on account_months.month_start = months.month_start
)

select * from final
