{%- set breakdowns = [
    ('company', "'all'"),
    ('rep', 'owner_user_id'),
    ('product', 'product_id'),
    ('product_family', 'product_family'),
] -%}

with

line_items as (
    select * from {{ ref('int_line_items_priced') }}
),

opportunities as (
    select * from {{ ref('int_opportunities_credited') }}
),

all_periods as (
    select * from {{ ref('int_periods_spined') }}
),

users as (
    select * from {{ ref('dim_reps') }}
),

products as (
    select * from {{ ref('dim_products') }}
),

periods as (
    select * from all_periods
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
    {%- for breakdown, key in breakdowns %}
    select
        period_type,
        period_start,
        '{{ breakdown }}' as breakdown,
        {{ key }} as breakdown_id,
        count(distinct case when product_id is not null then opportunity_id end) as won_deals,
        sum(units) as units,
        sum(revenue) as revenue,
        sum(cost_of_goods) as cost_of_goods,
        count(distinct case when product_id is null then opportunity_id end) as won_deals_without_line_items,
        sum(bookings_without_line_items) as bookings_without_line_items
    from deal_products
    {%- if breakdown in ('product', 'product_family') %}
    where product_id is not null
    {%- endif %}
    group by
        period_type,
        period_start{% if key != "'all'" %},
        {{ key }}{% endif %}
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
),

names as (
    select
        'company' as breakdown,
        'all' as breakdown_id,
        'Company' as breakdown_name
    union all
    select
        'rep' as breakdown,
        user_id as breakdown_id,
        full_name as breakdown_name
    from users
    union all
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
spine as (
    select
        periods.period_type,
        periods.period_start,
        names.breakdown,
        names.breakdown_id
    from periods
    cross join names
    where names.breakdown <> 'rep'
    union
    select
        periods.period_type,
        periods.period_start,
        'rep' as breakdown,
        users.user_id as breakdown_id
    from periods
    inner join users
        on
            users.is_closer
            and periods.period_end >= users.hired_on
            and (periods.period_start <= users.left_on or users.left_on is null)
    union
    select
        period_type,
        period_start,
        breakdown,
        breakdown_id
    from measured
),

counted as (
    select
        spine.period_type,
        spine.period_start,
        periods.period_end,
        spine.breakdown,
        spine.breakdown_id,
        names.breakdown_name,
        coalesce(measured.won_deals, 0) as won_deals,
        coalesce(measured.units, 0) as units,
        {{ crm_kpi.money('coalesce(measured.revenue, 0)') }} as revenue,
        {{ crm_kpi.money('coalesce(measured.cost_of_goods, 0)') }} as cost_of_goods,
        case
            when spine.breakdown in ('company', 'rep') then coalesce(measured.won_deals_without_line_items, 0)
        end as won_deals_without_line_items,
        {{ crm_kpi.money("case when spine.breakdown in ('company', 'rep') then coalesce(measured.bookings_without_line_items, 0) end") }} as bookings_without_line_items
    from spine
    inner join periods
        on
            spine.period_type = periods.period_type
            and spine.period_start = periods.period_start
    left join measured
        on
            spine.period_type = measured.period_type
            and spine.period_start = measured.period_start
            and spine.breakdown = measured.breakdown
            and spine.breakdown_id = measured.breakdown_id
    left join names
        on
            spine.breakdown = names.breakdown
            and spine.breakdown_id = names.breakdown_id
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
