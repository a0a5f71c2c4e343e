-- Top 10 reps by bookings in the last complete quarter before the as-of date (the last day of
-- dim_dates), with win rate and quota attainment over the quarter.
with

as_of as (
    select max(date_day) as as_of_date from {{ ref('dim_dates') }}
),

last_full_quarter as (
    select
        cast({{ dbt.dateadd('quarter', -1, dbt.date_trunc('quarter', 'as_of.as_of_date')) }} as date) as quarter_start,
        cast({{ dbt.date_trunc('quarter', 'as_of.as_of_date') }} as date) as next_quarter_start
    from as_of
),

rep_quarter as (
    select
        revenue.user_id,
        revenue.rep_name,
        last_full_quarter.quarter_start,
        sum(revenue.bookings) as bookings,
        sum(revenue.won_deals) as won_deals,
        sum(revenue.lost_deals) as lost_deals,
        sum(revenue.quota) as quota
    from {{ ref('kpi_revenue_per_rep') }} as revenue
    cross join last_full_quarter
    where
        revenue.month >= last_full_quarter.quarter_start
        and revenue.month < last_full_quarter.next_quarter_start
    group by
        revenue.user_id,
        revenue.rep_name,
        last_full_quarter.quarter_start
)

select
    user_id,
    rep_name,
    quarter_start,
    bookings,
    won_deals,
    {{ crm_kpi.safe_divide('won_deals', 'won_deals + lost_deals') }} as win_rate,
    {{ crm_kpi.safe_divide('bookings', 'quota') }} as quota_attainment
from rep_quarter
order by bookings desc, user_id asc
limit 10
