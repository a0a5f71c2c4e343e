with

opportunities as (
    select * from {{ ref('int_opportunities_classified') }}
),

periods as (
    select * from {{ ref('int_periods_spined') }}
),

won_deals as (
    select
        opportunity_id,
        close_date,
        amount
    from opportunities
    where is_won_by_as_of
),

period_bookings as (
    select
        periods.period_type,
        periods.period_start,
        periods.period_end,
        sum(won_deals.amount) as bookings,
        count(won_deals.opportunity_id) as won_deals
    from periods
    left join won_deals
        on
            periods.period_start <= won_deals.close_date
            and periods.period_end >= won_deals.close_date
    group by
        periods.period_type,
        periods.period_start,
        periods.period_end
),

final as (
    select
        period_type,
        period_start,
        period_end,
        {{ crm_kpi.money('coalesce(bookings, 0)') }} as bookings,
        cast(won_deals as {{ dbt.type_bigint() }}) as won_deals
    from period_bookings
)

select * from final
