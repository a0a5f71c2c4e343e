with

opportunities as (
    select * from {{ ref('int_opportunities_classified') }}
),

periods as (
    select * from {{ ref('int_periods_spined') }}
),

{# Paid invoices and refunds: the one definition of recognised revenue (amounts in cents, booked on their own date). -#}
revenue_entries as (
    select * from {{ ref('int_revenue_entries_booked') }}
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
        sum(won_deals.amount) as bookings,
        count(won_deals.opportunity_id) as won_deals
    from periods
    left join won_deals
        on
            periods.period_start <= won_deals.close_date
            and periods.period_end >= won_deals.close_date
    group by
        periods.period_type,
        periods.period_start
),

period_revenue as (
    select
        periods.period_type,
        periods.period_start,
        sum(revenue_entries.paid_amount) as paid_invoices,
        sum(revenue_entries.refunded_amount) as refunds,
        sum(revenue_entries.recognised_amount) as recognised_revenue
    from periods
    inner join revenue_entries
        on
            periods.period_start <= revenue_entries.booked_on
            and periods.period_end >= revenue_entries.booked_on
    group by
        periods.period_type,
        periods.period_start
),

revenue as (
    select
        periods.period_type,
        periods.period_start,
        periods.period_end,
        periods.previous_period_start,
        periods.year_ago_period_start,
        {{ crm_kpi.money('coalesce(period_bookings.bookings, 0)') }} as bookings,
        coalesce(period_bookings.won_deals, 0) as won_deals,
        {{ crm_kpi.money('coalesce(period_revenue.paid_invoices, 0)') }} as paid_invoices,
        {{ crm_kpi.money('coalesce(period_revenue.refunds, 0)') }} as refunds,
        {{ crm_kpi.money('coalesce(period_revenue.recognised_revenue, 0)') }} as recognised_revenue
    from periods
    left join period_bookings
        on
            periods.period_type = period_bookings.period_type
            and periods.period_start = period_bookings.period_start
    left join period_revenue
        on
            periods.period_type = period_revenue.period_type
            and periods.period_start = period_revenue.period_start
),

{# The previous period and the year-ago period are rows of the same table: absent (null) before the first period. -#}
compared as (
    select
        revenue.period_type,
        revenue.period_start,
        revenue.period_end,
        revenue.bookings,
        revenue.won_deals,
        revenue.paid_invoices,
        revenue.refunds,
        revenue.recognised_revenue,
        previous_period.bookings as previous_period_bookings,
        year_ago.bookings as year_ago_bookings,
        previous_period.recognised_revenue as previous_period_recognised_revenue,
        year_ago.recognised_revenue as year_ago_recognised_revenue
    from revenue
    left join revenue as previous_period
        on
            revenue.period_type = previous_period.period_type
            and revenue.previous_period_start = previous_period.period_start
    left join revenue as year_ago
        on
            revenue.period_type = year_ago.period_type
            and revenue.year_ago_period_start = year_ago.period_start
),

final as (
    select
        period_type,
        period_start,
        period_end,
        bookings,
        cast(won_deals as {{ dbt.type_bigint() }}) as won_deals,
        {{ crm_kpi.money('previous_period_bookings') }} as previous_period_bookings,
        {{ crm_kpi.safe_divide('bookings - previous_period_bookings', 'previous_period_bookings') }} as bookings_growth,
        {{ crm_kpi.money('year_ago_bookings') }} as year_ago_bookings,
        {{ crm_kpi.safe_divide('bookings - year_ago_bookings', 'year_ago_bookings') }} as bookings_growth_yoy,
        paid_invoices,
        refunds,
        {{ crm_kpi.money('recognised_revenue') }} as recognised_revenue,
        {{ crm_kpi.money('previous_period_recognised_revenue') }} as previous_period_recognised_revenue,
        {{ crm_kpi.safe_divide(
            'recognised_revenue - previous_period_recognised_revenue',
            'case when previous_period_recognised_revenue > 0 then previous_period_recognised_revenue end'
        ) }} as recognised_revenue_growth,
        {{ crm_kpi.money('year_ago_recognised_revenue') }} as year_ago_recognised_revenue,
        {{ crm_kpi.safe_divide(
            'recognised_revenue - year_ago_recognised_revenue',
            'case when year_ago_recognised_revenue > 0 then year_ago_recognised_revenue end'
        ) }} as recognised_revenue_growth_yoy
    from compared
)

select * from final
