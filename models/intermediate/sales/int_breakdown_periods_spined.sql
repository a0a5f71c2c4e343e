{#-
    The rows a leaderboard needs even at zero (the oracle's standing_rows), in every period of every
    type: the company, every team and team manager, every open stage, and every closer (role ae or am,
    as dim_reps' is_closer) employed during the period (hired on or before its last day, not left
    before its first). A mart unions its measured rows to the breakdowns of these it reports.
-#}
with

members as (
    select * from {{ ref('int_breakdown_members') }}
),

periods as (
    select * from {{ ref('int_periods_spined') }}
),

closers as (
    select
        user_id,
        hired_on,
        left_on
    from {{ ref('stg_crm__users') }}
    where role in ('ae', 'am')
),

open_stages as (
    select stage from {{ ref('stg_crm__stages') }}
    where not is_closed
),

final as (
    select
        periods.period_type,
        periods.period_start,
        members.breakdown,
        members.breakdown_id
    from periods
    cross join members
    where members.breakdown in ('company', 'team', 'manager') and members.breakdown_id <> 'unassigned'
    union all
    select
        periods.period_type,
        periods.period_start,
        'stage' as breakdown,
        open_stages.stage as breakdown_id
    from periods
    cross join open_stages
    union all
    select
        periods.period_type,
        periods.period_start,
        'rep' as breakdown,
        closers.user_id as breakdown_id
    from periods
    inner join closers
        on
            periods.period_end >= closers.hired_on
            and (periods.period_start <= closers.left_on or closers.left_on is null)
)

select * from final
