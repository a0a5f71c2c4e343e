with

valid_rows as (
    select * from {{ ref('base_crm__opportunity_line_items') }}
    where quarantine_reason is null
),

latest_rows as (
    {{ crm_kpi.dedupe_latest('valid_rows', ['line_item_id']) }}
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
