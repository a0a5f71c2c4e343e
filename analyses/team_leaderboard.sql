-- Team leaderboard for the last complete quarter before the as-of date: bookings against quota (credited to
-- the team the rep was in on the close date), the share of its reps at or above 100%, win rate, close ratio,
-- average deal size and median cycle, and the open pipeline the team holds at the quarter's end; ranked by
-- quota attainment (teams without a quota last), then bookings.
with

as_of as (
    select max(date_day) as as_of_date from {{ ref('dim_dates') }}
),

last_full_quarter as (
    select max(quota.period_start) as quarter_start
    from {{ ref('kpi_quota_attainment') }} as quota
    cross join as_of
    where quota.period_type = 'quarter' and quota.period_end <= as_of.as_of_date
),

quota as (
    select quota.*
    from {{ ref('kpi_quota_attainment') }} as quota
    inner join last_full_quarter
        on quota.period_start = last_full_quarter.quarter_start
    where quota.period_type = 'quarter' and quota.breakdown = 'team'
),

wins as (
    select wins.*
    from {{ ref('kpi_win_rate_and_cycle') }} as wins
    inner join last_full_quarter
        on wins.period_start = last_full_quarter.quarter_start
    where wins.period_type = 'quarter' and wins.breakdown = 'team'
),

pipeline as (
    select pipeline.*
    from {{ ref('kpi_pipeline_by_period') }} as pipeline
    inner join last_full_quarter
        on pipeline.period_start = last_full_quarter.quarter_start
    where pipeline.period_type = 'quarter' and pipeline.breakdown = 'team'
)

select
    quota.period_start as quarter_start,
    quota.breakdown_id as team_id,
    quota.breakdown_name as team_name,
    quota.bookings,
    quota.quota,
    quota.quota_attainment,
    quota.reps_with_quota,
    quota.reps_at_or_above_quota,
    quota.share_of_reps_at_or_above_quota,
    wins.won_deals,
    wins.lost_deals,
    wins.win_rate,
    wins.close_ratio,
    wins.average_deal_size,
    wins.median_days_to_close,
    pipeline.open_deals as open_deals_at_quarter_end,
    pipeline.open_value as open_pipeline_at_quarter_end,
    pipeline.weighted_open_value as weighted_pipeline_at_quarter_end
from quota
left join wins
    on quota.breakdown_id = wins.breakdown_id
left join pipeline
    on quota.breakdown_id = pipeline.breakdown_id
order by
    case when quota.quota_attainment is null then 1 else 0 end asc,
    quota.quota_attainment desc,
    quota.bookings desc,
    quota.breakdown_id asc
