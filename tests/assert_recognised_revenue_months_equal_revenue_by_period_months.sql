{#-
    Reconciliation between the two marts that report recognised revenue (one definition,
    int_revenue_entries_booked): per month, kpi_recognised_revenue's all-products row has the paid
    invoices, the refunds and the recognised revenue of kpi_revenue_by_period's month row, to the cent.
    A month present in one mart only must have no money in it.
-#}
with

recognised_revenue as (
    select
        month as month_start,
        paid_revenue,
        refunded_amount,
        recognised_revenue
    from {{ ref('kpi_recognised_revenue') }}
    where product_id = 'all'
),

revenue_by_month as (
    select
        period_start as month_start,
        paid_invoices,
        refunds,
        recognised_revenue
    from {{ ref('kpi_revenue_by_period') }}
    where period_type = 'month'
),

month_keys as (
    select month_start from recognised_revenue
    union
    select month_start from revenue_by_month
)

select
    month_keys.month_start,
    recognised_revenue.paid_revenue,
    revenue_by_month.paid_invoices,
    recognised_revenue.refunded_amount,
    revenue_by_month.refunds,
    recognised_revenue.recognised_revenue as kpi_recognised_revenue,
    revenue_by_month.recognised_revenue as kpi_revenue_by_period
from month_keys
left join recognised_revenue
    on month_keys.month_start = recognised_revenue.month_start
left join revenue_by_month
    on month_keys.month_start = revenue_by_month.month_start
where
    coalesce(recognised_revenue.paid_revenue, 0) <> coalesce(revenue_by_month.paid_invoices, 0)
    or coalesce(recognised_revenue.refunded_amount, 0) <> coalesce(revenue_by_month.refunds, 0)
    or coalesce(recognised_revenue.recognised_revenue, 0) <> coalesce(revenue_by_month.recognised_revenue, 0)
