{#-
    The one definition of recognised revenue (see the recognised_revenue docs block): one row per revenue
    entry booked on or before the as-of date, of an account in staging. An invoice entry (any status; its
    amount counts as paid revenue only when paid) is booked on its issue date; a refund entry (a refund of a
    paid invoice) is booked on its refund date, at the refund date's rate (staging's conversion, as the raw
    contract says). Every amount is rounded to the cent here, once, so that any sum of entries over any
    period is a sum of cents and equals the same sum over finer periods exactly.
-#}
with

invoices as (
    select * from {{ ref('stg_crm__invoices') }}
),

refunds as (
    select * from {{ ref('stg_crm__refunds') }}
),

subscriptions as (
    select * from {{ ref('stg_crm__subscriptions') }}
),

products as (
    select * from {{ ref('stg_crm__products') }}
),

accounts as (
    select account_id from {{ ref('stg_crm__accounts') }}
),

as_of_dates as (
    select * from {{ ref('int_as_of_dates') }}
),

subscription_products as (
    select
        subscription_id,
        min(product_id) as product_id
    from subscriptions
    group by subscription_id
),

{# The invoices of staged accounts issued on or before the as-of date, with their product and its margin. -#}
booked_invoices as (
    select
        invoices.invoice_id,
        invoices.account_id,
        invoices.subscription_id,
        invoices.opportunity_id,
        subscription_products.product_id,
        invoices.issued_on,
        invoices.status,
        invoices.amount,
        {{ crm_kpi.safe_divide('products.list_price - products.unit_cost', 'products.list_price') }} as gross_margin
    from invoices
    inner join accounts
        on invoices.account_id = accounts.account_id
    cross join as_of_dates
    left join subscription_products
        on invoices.subscription_id = subscription_products.subscription_id
    left join products
        on subscription_products.product_id = products.product_id
    where invoices.issued_on <= as_of_dates.as_of_date
),

invoice_entries as (
    select
        'invoice' as entry_type,
        invoice_id as entry_id,
        invoice_id,
        account_id,
        subscription_id,
        opportunity_id,
        product_id,
        gross_margin,
        issued_on as booked_on,
        status as invoice_status,
        status = 'refused' as is_refused,
        {{ crm_kpi.money("case when status = 'paid' then amount else 0 end") }} as paid_amount,
        {{ crm_kpi.money('0') }} as refunded_amount
    from booked_invoices
),

{# Refunds of paid invoices only (nothing was collected on the others), on or before the as-of date. -#}
refund_entries as (
    select
        'refund' as entry_type,
        refunds.refund_id as entry_id,
        booked_invoices.invoice_id,
        booked_invoices.account_id,
        booked_invoices.subscription_id,
        booked_invoices.opportunity_id,
        booked_invoices.product_id,
        booked_invoices.gross_margin,
        refunds.refunded_on as booked_on,
        booked_invoices.status as invoice_status,
        false as is_refused,
        {{ crm_kpi.money('0') }} as paid_amount,
        {{ crm_kpi.money('refunds.amount') }} as refunded_amount
    from refunds
    inner join booked_invoices
        on refunds.invoice_id = booked_invoices.invoice_id
    cross join as_of_dates
    where
        booked_invoices.status = 'paid'
        and refunds.refunded_on <= as_of_dates.as_of_date
),

entries as (
    select * from invoice_entries
    union all
    select * from refund_entries
),

final as (
    select
        entry_type,
        entry_id,
        invoice_id,
        account_id,
        subscription_id,
        opportunity_id,
        product_id,
        booked_on,
        {{ crm_kpi.month_of('booked_on') }} as booked_month,
        invoice_status,
        is_refused,
        paid_amount,
        refunded_amount,
        cast(paid_amount - refunded_amount as decimal(18, 2)) as recognised_amount,
        gross_margin
    from entries
)

select * from final
