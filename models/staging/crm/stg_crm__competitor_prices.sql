with

valid_rows as (
    select * from {{ ref('base_crm__competitor_prices') }}
    where quarantine_reason is null
),

latest_rows as (
    {{ crm_kpi.dedupe_latest('valid_rows', ['competitor_id', 'product_id', 'observed_on']) }}
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
