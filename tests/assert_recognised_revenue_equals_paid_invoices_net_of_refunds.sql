{#-
    Reconciliation with staging: for each period type, the paid invoices and the refunds of
    kpi_revenue_by_period add up to the staged paid invoices of staged accounts issued, and the staged
    refunds of those invoices refunded, on or before the as-of date, each amount rounded to the cent as
    it is booked (int_revenue_entries_booked): the totals are sums of cents, equal to the cent.
-#}
with

mart as (
    select
        period_type,
        sum(paid_invoices) as paid_invoices,
        sum(refunds) as refunds
    from {{ ref('kpi_revenue_by_period') }}
    group by period_type
),

as_of_dates as (
    select * from {{ ref('int_as_of_dates') }}
),

paid_invoices as (
    select invoices.*
    from {{ ref('stg_crm__invoices') }} as invoices
    inner join {{ ref('stg_crm__accounts') }} as staged_accounts
        on invoices.account_id = staged_accounts.account_id
    cross join as_of_dates
    where invoices.status = 'paid' and invoices.issued_on <= as_of_dates.as_of_date
),

staged as (
    select
        coalesce((
            select sum({{ crm_kpi.money('paid_invoices.amount') }})
            from paid_invoices
        ), 0) as paid_invoices,
        coalesce((
            select sum({{ crm_kpi.money('refunds.amount') }})
            from {{ ref('stg_crm__refunds') }} as refunds
            inner join paid_invoices
                on refunds.invoice_id = paid_invoices.invoice_id
            cross join as_of_dates
            where refunds.refunded_on <= as_of_dates.as_of_date
        ), 0) as refunds
)

select
    mart.period_type,
    mart.paid_invoices,
    staged.paid_invoices as staged_paid_invoices,
    mart.refunds,
    staged.refunds as staged_refunds
from mart
cross join staged
where
    mart.paid_invoices <> staged.paid_invoices
    or mart.refunds <> staged.refunds
