with

latest_rows as (
    {{ crm_kpi.dedupe_latest(ref('base_crm__refunds'), ['refund_id'], where='quarantine_reason is null') }}
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
