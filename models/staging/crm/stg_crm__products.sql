with

latest_rows as (
    {{ crm_kpi.dedupe_latest(ref('base_crm__products'), ['product_id'], order_by='updated_at', where='quarantine_reason is null') }}
),

final as (
    select
        product_id,
        product_name,
        family,
        tier,
        list_price,
        original_list_price,
        unit_cost,
        original_unit_cost,
        original_currency,
        updated_at,
        exchange_rate
    from latest_rows
)

select * from final
