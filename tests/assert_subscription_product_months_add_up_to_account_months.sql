{#-
    The product months (int_subscription_product_months) add up to the unit-tested account months
    (int_subscription_months): per account and month, the products' MRR sums to the account's MRR, the
    account is active exactly when one of its products is, and its first active month is the earliest of
    its products'. Each side has a row for every account month from the account's first active month.
-#}
with

account_months as (
    select * from {{ ref('int_subscription_months') }}
),

product_totals as (
    select
        account_id,
        month_start,
        sum(mrr) as mrr,
        max(case when is_active then 1 else 0 end) as has_active_product,
        min(first_active_month) as first_active_month
    from {{ ref('int_subscription_product_months') }}
    group by
        account_id,
        month_start
)

select
    coalesce(account_months.account_id, product_totals.account_id) as account_id,
    coalesce(account_months.month_start, product_totals.month_start) as month_start,
    account_months.mrr as account_mrr,
    product_totals.mrr as product_mrr
from account_months
full outer join product_totals
    on
        account_months.account_id = product_totals.account_id
        and account_months.month_start = product_totals.month_start
where
    account_months.account_id is null
    or product_totals.account_id is null
    or abs(account_months.mrr - product_totals.mrr) > 0.000001
    or (case when account_months.is_active then 1 else 0 end) <> product_totals.has_active_product
    or account_months.cohort_month <> product_totals.first_active_month
