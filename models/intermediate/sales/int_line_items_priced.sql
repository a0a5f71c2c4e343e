{#-
    One row per line item of an opportunity in scope whose product is in staging: the product's family
    and tier, and the line's revenue and cost of goods in the reporting currency. Prices are in the deal's
    currency, so they are converted at the deal's carried rate (the rate of its created date); the unit
    cost is the product's, as staging converted it (at the rate of the product's updated_at). A line's
    revenue and cost of goods are rounded to the cent here, once: every sum over any period is a sum of
    cents, the same over months and quarters.
-#}
with

{# The deal's carried exchange rate converts its prices. -#}
opportunities as (
    select
        opportunity_id,
        exchange_rate
    from {{ ref('int_opportunities_classified') }}
),

line_items as (
    select * from {{ ref('stg_crm__opportunity_line_items') }}
),

products as (
    select * from {{ ref('stg_crm__products') }}
),

final as (
    select
        line_items.line_item_id,
        line_items.opportunity_id,
        line_items.product_id,
        products.product_name,
        products.family,
        products.tier,
        line_items.quantity,
        line_items.unit_price * opportunities.exchange_rate as unit_price,
        line_items.discount,
        {{ crm_kpi.money('line_items.quantity * line_items.unit_price * (1 - line_items.discount) * opportunities.exchange_rate') }} as revenue,
        products.unit_cost,
        {{ crm_kpi.money('line_items.quantity * products.unit_cost') }} as cost_of_goods
    from line_items
    inner join opportunities
        on line_items.opportunity_id = opportunities.opportunity_id
    inner join products
        on line_items.product_id = products.product_id
)

select * from final
