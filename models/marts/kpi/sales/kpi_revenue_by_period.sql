with

opportunities as (
    select * from {{ ref('int_opportunities_classified') }}
),

periods as (
    select * from {{ ref('int_periods_spined') }}
),

invoices as (
    select * from {{ ref('stg_crm__invoices') }}
),

refunds as (
    select * from {{ ref('stg_crm__refunds') }}
),

as_of_dates as (
    select * from {{ ref('int_as_of_dates') }}
),

won_deals as (
    select
        opportunity_id,
        close_date,
        amount
    from opportunities
    where is_won_by_as_of
),

paid_invoices as (
    select
        invoices.invoice_id,
        invoices.issued_on,
        invoices.amount
    from invoices
    cross join as_of_dates
    where
        invoices.status = 'paid'
        and invoices.issued_on <= as_of_dates.as_of_date
),

{# Refunds of paid invoices, in the period of the refund. -#}
paid_refunds as (
    select
        refunds.refunded_on,
        refunds.amount
    from refunds
    inner join invoices
        on refunds.invoice_id = invoices.invoice_id
    cross join as_of_dates
    where
        invoices.status = 'paid'
        and refunds.refunded_on <= as_of_dates.as_of_date
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

period_invoices as (
    select
        periods.period_type,
        periods.period_start,
        sum(paid_invoices.amount) as paid_invoices
    from periods
    inner join paid_invoices
        on
            periods.period_start <= paid_invoices.issued_on
            and periods.period_end >= paid_invoices.issued_on
    group by
        periods.period_type,
        periods.period_start
),

period_refunds as (
    select
        periods.period_type,
        periods.period_start,
        sum(paid_refunds.amount) as refunds
    from periods
    inner join paid_refunds
        on
            periods.period_start <= paid_refunds.refunded_on
            and periods.period_end >= paid_refunds.refunded_on
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
        {{ crm_kpi.money('coalesce(period_invoices.paid_invoices, 0)') }} as paid_invoices,
        {{ crm_kpi.money('coalesce(period_refunds.refunds, 0)') }} as refunds
    from periods
    left join period_bookings
        on
            periods.period_type = period_bookings.period_type
            and periods.period_start = period_bookings.period_start
    left join period_invoices
        on
            periods.period_type = period_invoices.period_type
            and periods.period_start = period_invoices.period_start
    left join period_refunds
        on
            periods.period_type = period_refunds.period_type
            and periods.period_start = period_refunds.period_start
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
        revenue.paid_invoices - revenue.refunds as recognised_revenue,
        previous_period.bookings as previous_period_bookings,
        year_ago.bookings as year_ago_bookings,
        previous_period.paid_invoices - previous_period.refunds as previous_period_recognised_revenue,
        year_ago.paid_invoices - year_ago.refunds as year_ago_recognised_revenue
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
