{#- Discount is a percent in Salesforce (blank: no discount), a fraction in the contract. -#}
with

line_items as (
    select * from {{ ref('base_salesforce__opportunity_line_item') }}
    where not {{ crm_kpi.salesforce_is_true('is_deleted') }}
),

final as (
    select
        source_row_number,
        {{ crm_kpi.salesforce_id('id') }} as line_item_id,
        {{ crm_kpi.salesforce_id('opportunity_id') }} as opportunity_id,
        {{ crm_kpi.salesforce_id('product_2_id') }} as product_id,
        quantity,
        unit_price,
        {{ crm_kpi.salesforce_percent("coalesce(discount, '0')") }} as discount
    from line_items
)

select * from final
