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

users as (
    select * from {{ ref('stg_crm__users') }}
),

stages as (
    select * from {{ ref('stg_crm__stages') }}
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
        stages.stage as breakdown_id
    from periods
    cross join stages
    where not stages.is_closed
    union all
    select
        periods.period_type,
        periods.period_start,
        'rep' as breakdown,
        users.user_id as breakdown_id
    from periods
    inner join users
        on
            users.role in ('ae', 'am')
            and periods.period_end >= users.hired_on
            and (periods.period_start <= users.left_on or users.left_on is null)
)

select * from final
