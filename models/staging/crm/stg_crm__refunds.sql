with

valid_rows as (
    select * from {{ ref('base_crm__refunds') }}
    where quarantine_reason is null
),

latest_rows as (
    {{ crm_kpi.dedupe_latest('valid_rows', ['refund_id']) }}
),

final as (
    select
        refund_id,
        invoice_id,
        refunded_on,
        amount,
        original_amount,
        original_currency,
        reason,
        exchange_rate
    from latest_rows
)

select * from final
