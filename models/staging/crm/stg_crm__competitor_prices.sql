with

latest_rows as (
    {{ crm_kpi.dedupe_latest(ref('base_crm__competitor_prices'), ['competitor_id', 'product_id', 'observed_on'], where='quarantine_reason is null') }}
),

final as (
    select
        competitor_id,
        product_id,
        observed_on,
        price,
        original_price,
        original_currency,
        exchange_rate
    from latest_rows
)

select * from final
