{#-
    Invoices and refunds come from int_revenue_entries_booked (the one definition of recognised revenue):
    each entry counts in the month it is booked in, and its amounts are cents, so the sums here are exact.
-#}
with

revenue_entries as (
    select * from {{ ref('int_revenue_entries_booked') }}
),

account_months as (
    select * from {{ ref('int_subscription_months') }}
),

product_months as (
    select * from {{ ref('int_subscription_product_months') }}
),

months as (
    select * from {{ ref('int_months_spined') }}
),

entry_products as (
    select
        booked_month as month_start,
        coalesce(product_id, 'none') as product_id,
        case when entry_type = 'invoice' then 1 else 0 end as is_invoice,
        case when is_refused then 1 else 0 end as is_refused,
        paid_amount,
        refunded_amount,
        recognised_amount
    from revenue_entries
),

entry_segments as (
    select
        month_start,
        'all' as product_id,
        is_invoice,
        is_refused,
        paid_amount,
        refunded_amount,
        recognised_amount
    from entry_products
    union all
    select
        month_start,
        product_id,
        is_invoice,
        is_refused,
        paid_amount,
        refunded_amount,
        recognised_amount
    from entry_products
),

revenue as (
    select
        month_start,
        product_id,
        sum(is_invoice) as invoices,
        sum(is_refused) as refused_invoices,
        sum(paid_amount) as paid_revenue,
        sum(refunded_amount) as refunded_amount,
        sum(recognised_amount) as recognised_revenue
    from entry_segments
    group by
        month_start,
        product_id
),

active_accounts as (
    select
        month_start,
        'all' as product_id,
        sum(case when is_active then 1 else 0 end) as active_accounts
    from account_months
    group by month_start
    union all
    select
        month_start,
        product_id,
        sum(case when is_active then 1 else 0 end) as active_accounts
    from product_months
    group by
        month_start,
        product_id
),

products as (
    select product_id from revenue
    union
    select product_id from active_accounts
),

spine as (
    select
        months.month_start,
        products.product_id
    from months
    cross join products
),

rounded as (
    select
        spine.month_start as month,
        spine.product_id,
        cast(coalesce(revenue.invoices, 0) as {{ dbt.type_bigint() }}) as invoices,
        cast(coalesce(revenue.refused_invoices, 0) as {{ dbt.type_bigint() }}) as refused_invoices,
        {{ crm_kpi.money('coalesce(revenue.paid_revenue, 0)') }} as paid_revenue,
        {{ crm_kpi.money('coalesce(revenue.refunded_amount, 0)') }} as refunded_amount,
        {{ crm_kpi.money('coalesce(revenue.recognised_revenue, 0)') }} as recognised_revenue,
        cast(coalesce(active_accounts.active_accounts, 0) as {{ dbt.type_bigint() }}) as active_accounts
    from spine
    left join revenue
        on
            spine.month_start = revenue.month_start
            and spine.product_id = revenue.product_id
    left join active_accounts
        on
            spine.month_start = active_accounts.month_start
            and spine.product_id = active_accounts.product_id
),

final as (
    select
        month,
        product_id,
        invoices,
        refused_invoices,
        paid_revenue,
        refunded_amount,
        recognised_revenue,
        active_accounts,
        {{ crm_kpi.safe_divide('recognised_revenue', 'active_accounts') }} as arpa,
        {{ crm_kpi.safe_divide('refunded_amount', 'paid_revenue') }} as refund_rate,
        {{ crm_kpi.safe_divide('refused_invoices', 'invoices') }} as refusal_rate
    from rounded
)

select * from final
