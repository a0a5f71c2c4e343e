with

valid_rows as (
    select * from {{ ref('base_crm__invoices') }}
    where quarantine_reason is null
),

latest_rows as (
    {{ crm_kpi.dedupe_latest('valid_rows', ['invoice_id']) }}
),

final as (
    select
        invoice_id,
        account_id,
        opportunity_id,
        subscription_id,
        issued_on,
        amount,
        original_amount,
        original_currency,
        status,
        exchange_rate
    from latest_rows
)

select * from final
