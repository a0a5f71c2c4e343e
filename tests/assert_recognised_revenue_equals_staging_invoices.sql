{#-
    Reconciliation (C5, C9): per month, the all-products row of kpi_recognised_revenue counts the staged
    invoices of staged accounts issued that month (on or before the as-of date), its refused ones and the
    amount of its paid ones, and its active accounts equal the staged accounts with a subscription period
    covering the month's snapshot; the product rows sum to the all-products row. Every amount is rounded
    to the cent as it is booked (int_revenue_entries_booked), so the sums are equal to the cent.
-#}
with

as_of_dates as (
    select * from {{ ref('int_as_of_dates') }}
),

months as (
    select * from {{ ref('int_months_spined') }}
),

staging_invoices as (
    select
        {{ crm_kpi.month_of('invoices.issued_on') }} as month_start,
        count(*) as invoices,
        sum(case when invoices.status = 'refused' then 1 else 0 end) as refused_invoices,
        sum(case when invoices.status = 'paid' then {{ crm_kpi.money('invoices.amount') }} else 0 end) as paid_revenue
    from {{ ref('stg_crm__invoices') }} as invoices
    inner join {{ ref('stg_crm__accounts') }} as staged_accounts
        on invoices.account_id = staged_accounts.account_id
    cross join as_of_dates
    where invoices.issued_on <= as_of_dates.as_of_date
    group by {{ crm_kpi.month_of('invoices.issued_on') }}
),

staging_active as (
    select
        months.month_start,
        count(distinct subscriptions.account_id) as active_accounts
    from {{ ref('stg_crm__subscriptions') }} as subscriptions
    inner join {{ ref('stg_crm__accounts') }} as staged_accounts
        on subscriptions.account_id = staged_accounts.account_id
    inner join months
        on
            subscriptions.period_start <= months.snapshot_date
            and (subscriptions.period_end > months.snapshot_date or subscriptions.period_end is null)
    group by months.month_start
),

mart_all as (
    select * from {{ ref('kpi_recognised_revenue') }}
    where product_id = 'all'
),

mart_products as (
    select
        month,
        sum(invoices) as invoices,
        sum(refused_invoices) as refused_invoices,
        sum(paid_revenue) as paid_revenue,
        sum(refunded_amount) as refunded_amount,
        sum(recognised_revenue) as recognised_revenue
    from {{ ref('kpi_recognised_revenue') }}
    where product_id <> 'all'
    group by month
),

month_keys as (
    select month_start from staging_invoices
    union
    select month_start from staging_active
    union
    select month as month_start from mart_all
)

select
    month_keys.month_start,
    staging_invoices.invoices as staging_invoices,
    mart_all.invoices as mart_invoices,
    staging_invoices.paid_revenue as staging_paid_revenue,
    mart_all.paid_revenue as mart_paid_revenue,
    staging_active.active_accounts as staging_active_accounts,
    mart_all.active_accounts as mart_active_accounts
from month_keys
left join staging_invoices
    on month_keys.month_start = staging_invoices.month_start
left join staging_active
    on month_keys.month_start = staging_active.month_start
left join mart_all
    on month_keys.month_start = mart_all.month
left join mart_products
    on month_keys.month_start = mart_products.month
where
    coalesce(staging_invoices.invoices, 0) <> coalesce(mart_all.invoices, 0)
    or coalesce(staging_invoices.refused_invoices, 0) <> coalesce(mart_all.refused_invoices, 0)
    or coalesce(staging_invoices.paid_revenue, 0) <> coalesce(mart_all.paid_revenue, 0)
    or coalesce(staging_active.active_accounts, 0) <> coalesce(mart_all.active_accounts, 0)
    or coalesce(mart_products.invoices, 0) <> coalesce(mart_all.invoices, 0)
    or coalesce(mart_products.refused_invoices, 0) <> coalesce(mart_all.refused_invoices, 0)
    or coalesce(mart_products.paid_revenue, 0) <> coalesce(mart_all.paid_revenue, 0)
    or coalesce(mart_products.refunded_amount, 0) <> coalesce(mart_all.refunded_amount, 0)
    or coalesce(mart_products.recognised_revenue, 0) <> coalesce(mart_all.recognised_revenue, 0)
