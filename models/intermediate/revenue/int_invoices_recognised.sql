{#-
    One row per invoice issued on or before the as-of date, of an account in staging: its product, its
    month, what was paid, what was refunded and the recognised revenue (see the recognised_revenue
    docs block), and its product's catalogue gross margin.
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

invoice_refunds as (
    select
        refunds.invoice_id,
        sum(
            case
                when refunds.original_currency = invoices.original_currency
                    then refunds.original_amount * invoices.exchange_rate
                else refunds.amount
            end
        ) as refunded_amount
    from refunds
    inner join invoices
        on refunds.invoice_id = invoices.invoice_id
    cross join as_of_dates
    where refunds.refunded_on <= as_of_dates.as_of_date
    group by refunds.invoice_id
),

final as (
    select
        invoices.invoice_id,
        invoices.account_id,
        invoices.subscription_id,
        invoices.opportunity_id,
        subscription_products.product_id,
        invoices.issued_on,
        {{ crm_kpi.month_of('invoices.issued_on') }} as invoice_month,
        invoices.status,
        invoices.amount,
        invoices.status = 'paid' as is_paid,
        invoices.status = 'refused' as is_refused,
        case when invoices.status = 'paid' then invoices.amount else 0 end as paid_amount,
        case when invoices.status = 'paid' then coalesce(invoice_refunds.refunded_amount, 0) else 0 end as refunded_amount,
        case
            when invoices.status = 'paid' then invoices.amount - coalesce(invoice_refunds.refunded_amount, 0)
            else 0
        end as recognised_amount,
        {{ crm_kpi.safe_divide('products.list_price - products.unit_cost', 'products.list_price') }} as gross_margin
    from invoices
    inner join accounts
        on invoices.account_id = accounts.account_id
    cross join as_of_dates
    left join subscription_products
        on invoices.subscription_id = subscription_products.subscription_id
    left join products
        on subscription_products.product_id = products.product_id
    left join invoice_refunds
        on invoices.invoice_id = invoice_refunds.invoice_id
    where invoices.issued_on <= as_of_dates.as_of_date
)

select * from final
