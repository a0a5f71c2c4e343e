{#-
    One row per user and day (from the first data date to the as-of date) on which the user is in a
    team: the team of the membership that covers the day (started_on <= day <= ended_on, an open
    membership has no end); when two memberships cover the same day, the one started last wins (ties by
    team_id), as dim_reps reads the current team. The team's manager (teams.manager_user_id) beside it.
    Every team credit (a deal's team on its close date, a rep's team on a snapshot date) is an equality
    join on this table.
-#}
with

memberships as (
    select * from {{ ref('stg_crm__team_memberships') }}
),

teams as (
    select * from {{ ref('stg_crm__teams') }}
),

days as (
    select * from {{ ref('int_dates_spined') }}
),

membership_days as (
    select
        memberships.user_id,
        days.date_day,
        memberships.team_id,
        row_number() over (
            partition by memberships.user_id, days.date_day
            order by memberships.started_on desc, memberships.team_id asc
        ) as membership_rank
    from memberships
    inner join days
        on
            memberships.started_on <= days.date_day
            and (memberships.ended_on >= days.date_day or memberships.ended_on is null)
),

final as (
    select
        membership_days.user_id,
        membership_days.date_day,
        membership_days.team_id,
        teams.manager_user_id
    from membership_days
    left join teams
        on membership_days.team_id = teams.team_id
    where membership_days.membership_rank = 1
)

select * from final
