with

latest_rows as (
    {{ crm_kpi.dedupe_latest(ref('base_crm__subscriptions'), ['subscription_id', 'period_start'], where='quarantine_reason is null') }}
),

final as (
    select
        subscription_id,
        account_id,
        product_id,
        period_start,
        period_end,
        mrr,
        original_mrr,
        original_currency,
        exchange_rate
    from latest_rows
)

select * from final
