with

latest_rows as (
    {{ crm_kpi.dedupe_latest(ref('base_crm__opportunity_line_items'), ['line_item_id'], where='quarantine_reason is null') }}
),

final as (
    select
        line_item_id,
        opportunity_id,
        product_id,
        quantity,
        unit_price,
        discount
    from latest_rows
)

select * from final
