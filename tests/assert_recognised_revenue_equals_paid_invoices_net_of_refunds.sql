{#-
    Reconciliation with staging: for each period type, the paid invoices and the refunds of
    kpi_revenue_by_period add up to the staged paid invoices issued, and the staged refunds of paid invoices
    refunded, on or before the as-of date (half a cent of rounding per mart row at most).
-#}
with

mart as (
    select
        period_type,
        sum(paid_invoices) as paid_invoices,
        sum(refunds) as refunds,
        count(*) as mart_rows
    from {{ ref('kpi_revenue_by_period') }}
    group by period_type
),

as_of_dates as (
    select * from {{ ref('int_as_of_dates') }}
),

invoices as (
    select * from {{ ref('stg_crm__invoices') }}
),

staged as (
    select
        coalesce((
            select sum(invoices.amount)
            from invoices
            cross join as_of_dates
            where invoices.status = 'paid' and invoices.issued_on <= as_of_dates.as_of_date
        ), 0) as paid_invoices,
        coalesce((
            select sum(refunds.amount)
            from {{ ref('stg_crm__refunds') }} as refunds
            inner join invoices
                on refunds.invoice_id = invoices.invoice_id
            cross join as_of_dates
            where invoices.status = 'paid' and refunds.refunded_on <= as_of_dates.as_of_date
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
    abs(mart.paid_invoices - staged.paid_invoices) > 0.005 * mart.mart_rows + 1e-9
    or abs(mart.refunds - staged.refunds) > 0.005 * mart.mart_rows + 1e-9
