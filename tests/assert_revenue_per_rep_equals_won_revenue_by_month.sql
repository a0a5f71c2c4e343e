{#-
    Reconciliation (S3): per month, bookings summed over reps equal the won opportunity amounts in
    staging closed that month (on or before the as-of date). Each mart row is rounded to the cent, so
    the tolerance is half a cent per mart row.
-#}
with

as_of_dates as (
    select * from {{ ref('int_as_of_dates') }}
),

staging_won as (
    select
        {{ crm_kpi.month_of('opportunities.close_date') }} as month_start,
        sum(opportunities.amount) as won_amount
    from {{ ref('stg_crm__opportunities') }} as opportunities
    inner join {{ ref('stg_crm__stages') }} as pipeline_stages
        on opportunities.stage = pipeline_stages.stage
    cross join as_of_dates
    where
        pipeline_stages.is_won
        and opportunities.close_date <= as_of_dates.as_of_date
        and cast(opportunities.created_at as date) <= as_of_dates.as_of_date
    group by 1
),

mart_bookings as (
    select
        month as month_start,
        sum(bookings) as bookings,
        count(*) as mart_rows
    from {{ ref('kpi_revenue_per_rep') }}
    group by 1
)

select
    coalesce(staging_won.month_start, mart_bookings.month_start) as month_start,
    staging_won.won_amount,
    mart_bookings.bookings
from staging_won
full outer join mart_bookings
    on staging_won.month_start = mart_bookings.month_start
where
    abs(coalesce(staging_won.won_amount, 0) - coalesce(mart_bookings.bookings, 0))
    > 0.005 * (coalesce(mart_bookings.mart_rows, 0) + 1)
