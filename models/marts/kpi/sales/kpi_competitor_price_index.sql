with

line_items as (
    select * from {{ ref('int_line_items_priced') }}
),

opportunities as (
    select * from {{ ref('int_opportunities_credited') }}
),

competitor_prices as (
    select * from {{ ref('int_competitor_prices_observed') }}
),

all_periods as (
    select * from {{ ref('int_periods_spined') }}
),

products as (
    select * from {{ ref('dim_products') }}
),

periods as (
    select * from all_periods
    where period_type in ('month', 'quarter')
),

our_sales as (
    select
        periods.period_type,
        periods.period_start,
        line_items.product_id,
        sum(line_items.quantity) as units_sold,
        sum(line_items.revenue) as revenue
    from line_items
    inner join opportunities
        on line_items.opportunity_id = opportunities.opportunity_id
    inner join periods
        on
            opportunities.close_date >= periods.period_start
            and opportunities.close_date <= periods.period_end
    where opportunities.is_won_by_as_of
    group by
        periods.period_type,
        periods.period_start,
        line_items.product_id
),

competitor_observations as (
    select
        periods.period_type,
        periods.period_start,
        competitor_prices.product_id,
        count(*) as competitor_observations,
        avg(competitor_prices.price) as competitor_average_price
    from competitor_prices
    inner join periods
        on
            competitor_prices.observed_on >= periods.period_start
            and competitor_prices.observed_on <= periods.snapshot_date
    group by
        periods.period_type,
        periods.period_start,
        competitor_prices.product_id
),

{# Every staged product in every period, and any other product sold or observed. -#}
product_periods as (
    select
        periods.period_type,
        periods.period_start,
        products.product_id
    from periods
    cross join products
    union
    select
        period_type,
        period_start,
        product_id
    from our_sales
    union
    select
        period_type,
        period_start,
        product_id
    from competitor_observations
),

final as (
    select
        product_periods.period_type,
        product_periods.period_start,
        periods.period_end,
        product_periods.product_id,
        products.product_name,
        products.family,
        cast(coalesce(our_sales.units_sold, 0) as {{ dbt.type_bigint() }}) as units_sold,
        {{ crm_kpi.money('coalesce(our_sales.revenue, 0)') }} as revenue,
        {{ crm_kpi.safe_divide(crm_kpi.money('coalesce(our_sales.revenue, 0)'), 'our_sales.units_sold') }} as our_average_selling_price,
        cast(coalesce(competitor_observations.competitor_observations, 0) as {{ dbt.type_bigint() }}) as competitor_observations,
        cast(competitor_observations.competitor_average_price as {{ crm_kpi.type_double() }}) as competitor_average_price,
        {{ crm_kpi.safe_divide(
            crm_kpi.safe_divide(crm_kpi.money('coalesce(our_sales.revenue, 0)'), 'our_sales.units_sold'),
            'competitor_observations.competitor_average_price'
        ) }} as price_index
    from product_periods
    inner join periods
        on
            product_periods.period_type = periods.period_type
            and product_periods.period_start = periods.period_start
    left join our_sales
        on
            product_periods.period_type = our_sales.period_type
            and product_periods.period_start = our_sales.period_start
            and product_periods.product_id = our_sales.product_id
    left join competitor_observations
        on
            product_periods.period_type = competitor_observations.period_type
            and product_periods.period_start = competitor_observations.period_start
            and product_periods.product_id = competitor_observations.product_id
    left join products
        on product_periods.product_id = products.product_id
)

select * from final
