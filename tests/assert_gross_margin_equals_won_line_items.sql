{#-
    Reconciliation with staging: per period type, the company rows of kpi_gross_margin hold the revenue,
    cost of goods and units of the line items (of staged products) of every won deal closed on or before
    the as-of date, and the amounts of the won deals without any such line item (half a cent of rounding
    per mart row at most).
-#}
with

mart as (
    select
        period_type,
        sum(revenue) as revenue,
        sum(cost_of_goods) as cost_of_goods,
        sum(units) as units,
        sum(bookings_without_line_items) as bookings_without_line_items,
        count(*) as mart_rows
    from {{ ref('kpi_gross_margin') }}
    where breakdown = 'company'
    group by period_type
),

won_deals as (
    select * from {{ ref('int_opportunities_classified') }}
    where is_won_by_as_of
),

won_lines as (
    select
        line_items.opportunity_id,
        line_items.quantity,
        line_items.quantity * line_items.unit_price * (1 - line_items.discount) * won_deals.exchange_rate as revenue,
        line_items.quantity * products.unit_cost as cost_of_goods
    from {{ ref('stg_crm__opportunity_line_items') }} as line_items
    inner join won_deals
        on line_items.opportunity_id = won_deals.opportunity_id
    inner join {{ ref('stg_crm__products') }} as products
        on line_items.product_id = products.product_id
),

staged as (
    select
        coalesce((select sum(revenue) from won_lines), 0) as revenue,
        coalesce((select sum(cost_of_goods) from won_lines), 0) as cost_of_goods,
        coalesce((select sum(quantity) from won_lines), 0) as units,
        coalesce((
            select sum(won_deals.amount)
            from won_deals
            where won_deals.opportunity_id not in (select won_lines.opportunity_id from won_lines)
        ), 0) as bookings_without_line_items
)

select
    mart.*,
    staged.revenue as staged_revenue,
    staged.cost_of_goods as staged_cost_of_goods,
    staged.units as staged_units,
    staged.bookings_without_line_items as staged_bookings_without_line_items
from mart
cross join staged
where
    abs(mart.revenue - staged.revenue) > 0.005 * mart.mart_rows + 1e-9
    or abs(mart.cost_of_goods - staged.cost_of_goods) > 0.005 * mart.mart_rows + 1e-9
    or mart.units <> staged.units
    or abs(mart.bookings_without_line_items - staged.bookings_without_line_items) > 0.005 * mart.mart_rows + 1e-9
