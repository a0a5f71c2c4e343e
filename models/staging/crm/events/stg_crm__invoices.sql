with

latest_rows as (
    {{ crm_kpi.dedupe_latest(
        ref('base_crm__invoices'),
        ['invoice_id'],
        where=crm_kpi.valid_rows_in_window(ref('base_crm__invoices'), ['invoice_id']),
        then_by=crm_kpi.event_row_order('invoices'),
    ) }}
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
