{%- set breakdowns = {
    'company': "'all'",
    'rep': 'owner_user_id',
    'product': 'product_id',
    'product_family': 'product_family',
} -%}
{%- set measures = {
    'won_deals': 'count(distinct case when product_id is not null then opportunity_id end)',
    'units': 'sum(units)',
    'revenue': 'sum(revenue)',
    'cost_of_goods': 'sum(cost_of_goods)',
    'won_deals_without_line_items': 'count(distinct case when product_id is null then opportunity_id end)',
    'bookings_without_line_items': 'sum(bookings_without_line_items)',
} -%}
{%- set with_product = {'product': 'product_id is not null', 'product_family': 'product_id is not null'} -%}

with

line_items as (
    select * from {{ ref('int_line_items_priced') }}
),

opportunities as (
    select * from {{ ref('int_opportunities_credited') }}
),

members as (
    select * from {{ ref('int_breakdown_members') }}
),

standing as (
    select * from {{ ref('int_breakdown_periods_spined') }}
),

products as (
    select * from {{ ref('dim_products') }}
),

periods as (
    select * from {{ ref('int_periods_spined') }}
    where period_type in ('month', 'quarter')
),

won_deals as (
    select
        periods.period_type,
        periods.period_start,
        opportunities.opportunity_id,
        opportunities.owner_user_id,
        opportunities.amount
    from opportunities
    inner join periods
        on
            opportunities.close_date >= periods.period_start
            and opportunities.close_date <= periods.period_end
    where opportunities.is_won_by_as_of
),

deals_with_line_items as (
    select distinct opportunity_id from line_items
),

{# One row per won deal and product sold on it (a deal's lines of one product summed), and one row per won
    deal without any line item (product null: counted apart, no margin). -#}
deal_products as (
    select
        won_deals.period_type,
        won_deals.period_start,
        won_deals.opportunity_id,
        won_deals.owner_user_id,
        line_items.product_id,
        line_items.family as product_family,
        sum(line_items.quantity) as units,
        sum(line_items.revenue) as revenue,
        sum(line_items.cost_of_goods) as cost_of_goods,
        0 as bookings_without_line_items
    from won_deals
    inner join line_items
        on won_deals.opportunity_id = line_items.opportunity_id
    group by
        won_deals.period_type,
        won_deals.period_start,
        won_deals.opportunity_id,
        won_deals.owner_user_id,
        line_items.product_id,
        line_items.family
    union all
    select
        won_deals.period_type,
        won_deals.period_start,
        won_deals.opportunity_id,
        won_deals.owner_user_id,
        null as product_id,
        null as product_family,
        0 as units,
        0 as revenue,
        0 as cost_of_goods,
        won_deals.amount as bookings_without_line_items
    from won_deals
    left join deals_with_line_items
        on won_deals.opportunity_id = deals_with_line_items.opportunity_id
    where deals_with_line_items.opportunity_id is null
),

measured as (
    {{ crm_kpi.rollup_to_breakdowns('deal_products', breakdowns, measures, with_product) }}
),

product_names as (
    select
        'product' as breakdown,
        product_id as breakdown_id,
        product_name as breakdown_name
    from products
    union all
    select distinct
        'product_family' as breakdown,
        family as breakdown_id,
        family as breakdown_name
    from products
),

{# Zero rows: the company, every product and family, and every closer while employed, in every period. -#}
standing_rows as (
    select * from standing
    where breakdown in ('company', 'rep')
    union all
    select
        periods.period_type,
        periods.period_start,
        product_names.breakdown,
        product_names.breakdown_id
    from periods
    cross join product_names
),

names as (
    select * from members
    union all
    select * from product_names
),

breakdown_rows as (
    {{ crm_kpi.with_standing_rows('measured', 'standing_rows', 'names', measures.keys() | list) }}
),

counted as (
    select
        period_type,
        period_start,
        period_end,
        breakdown,
        breakdown_id,
        breakdown_name,
        coalesce(won_deals, 0) as won_deals,
        coalesce(units, 0) as units,
        {{ crm_kpi.money('coalesce(revenue, 0)') }} as revenue,
        {{ crm_kpi.money('coalesce(cost_of_goods, 0)') }} as cost_of_goods,
        case
            when breakdown in ('company', 'rep') then coalesce(won_deals_without_line_items, 0)
        end as won_deals_without_line_items,
        {{ crm_kpi.money("case when breakdown in ('company', 'rep') then coalesce(bookings_without_line_items, 0) end") }} as bookings_without_line_items
    from breakdown_rows
),

final as (
    select
        period_type,
        period_start,
        period_end,
        breakdown,
        breakdown_id,
        breakdown_name,
        cast(won_deals as {{ dbt.type_bigint() }}) as won_deals,
        cast(units as {{ dbt.type_bigint() }}) as units,
        revenue,
        cost_of_goods,
        {{ crm_kpi.money("revenue - cost_of_goods") }} as gross_profit,
        {{ crm_kpi.safe_divide('revenue - cost_of_goods', 'revenue') }} as gross_margin,
        cast(won_deals_without_line_items as {{ dbt.type_bigint() }}) as won_deals_without_line_items,
        bookings_without_line_items
    from counted
)

select * from final
