{{
    config(
        unique_key='invoice_id',
        post_hook="{{ crm_kpi.incremental_cleanup('issued_on') }}",
    )
}}

with

invoices as (
    select * from {{ ref('stg_crm__invoices') }}
    where {{ crm_kpi.in_incremental_window('issued_on', crm_kpi.checked_var('incremental_lookback_days_invoices')) }}
),

as_of_dates as (
    select * from {{ ref('int_as_of_dates') }}
),

final as (
    select
        invoices.invoice_id,
        invoices.account_id,
        invoices.opportunity_id,
        invoices.subscription_id,
        invoices.issued_on,
        invoices.status,
        {{ crm_kpi.money('invoices.amount') }} as amount,
        invoices.original_amount,
        invoices.original_currency
    from invoices
    cross join as_of_dates
    where
        invoices.issued_on <= as_of_dates.as_of_date
        and {{ crm_kpi.in_incremental_window('invoices.issued_on', crm_kpi.checked_var('incremental_lookback_days_invoices')) }}
)

select * from final
