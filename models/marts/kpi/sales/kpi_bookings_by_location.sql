with

opportunities as (
    select * from {{ ref('int_opportunities_credited') }}
),

line_items as (
    select * from {{ ref('int_line_items_priced') }}
),

all_periods as (
    select * from {{ ref('int_periods_spined') }}
),

accounts as (
    select * from {{ ref('dim_accounts') }}
),

periods as (
    select * from all_periods
    where period_type in ('month', 'quarter')
),

deal_units as (
    select
        opportunity_id,
        sum(quantity) as units
    from line_items
    group by opportunity_id
),

won_deals as (
    select
        periods.period_type,
        periods.period_start,
        coalesce(opportunities.account_region, 'unknown') as region,
        coalesce(opportunities.account_country, 'unknown') as country,
        opportunities.amount,
        coalesce(deal_units.units, 0) as units
    from opportunities
    inner join periods
        on
            opportunities.close_date >= periods.period_start
            and opportunities.close_date <= periods.period_end
    left join deal_units
        on opportunities.opportunity_id = deal_units.opportunity_id
    where opportunities.is_won_by_as_of
),

measured as (
    select
        period_type,
        period_start,
        region,
        country,
        sum(amount) as bookings,
        count(*) as won_deals,
        sum(units) as units
    from won_deals
    group by
        period_type,
        period_start,
        region,
        country
),

{# Every location of a staged account (and of any won deal) in every period, zero rows included. -#}
locations as (
    select distinct
        coalesce(region, 'unknown') as region,
        coalesce(country, 'unknown') as country
    from accounts
    union
    select distinct
        region,
        country
    from won_deals
),

final as (
    select
        periods.period_type,
        periods.period_start,
        periods.period_end,
        locations.region,
        locations.country,
        {{ crm_kpi.money('coalesce(measured.bookings, 0)') }} as bookings,
        cast(coalesce(measured.won_deals, 0) as {{ dbt.type_bigint() }}) as won_deals,
        cast(coalesce(measured.units, 0) as {{ dbt.type_bigint() }}) as units
    from periods
    cross join locations
    left join measured
        on
            periods.period_type = measured.period_type
            and periods.period_start = measured.period_start
            and locations.region = measured.region
            and locations.country = measured.country
)

select * from final
