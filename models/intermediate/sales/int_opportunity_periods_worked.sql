{#-
    One row per opportunity and month or quarter in which it was worked: open at some moment of the
    period (stage history), or closed in it (by the as-of date). Whether it closed in the period, and
    the day its credit is read on: its close date (closed in the period) or the period's snapshot
    date (still open then, or closed later), with the team its owner is in on that day.
-#}
with

opportunities as (
    select * from {{ ref('int_opportunities_credited') }}
),

states as (
    select * from {{ ref('int_opportunity_states') }}
),

periods as (
    select * from {{ ref('int_periods_spined') }}
    where period_type in ('month', 'quarter')
),

team_days as (
    select * from {{ ref('int_team_memberships_daily') }}
),

worked as (
    select
        periods.period_type,
        periods.period_start,
        states.opportunity_id
    from periods
    inner join states
        on
            periods.period_end >= states.valid_from_on
            and (periods.period_start <= states.valid_to_on or states.valid_to_on is null)
    where states.is_open
    union
    select
        periods.period_type,
        periods.period_start,
        opportunities.opportunity_id
    from periods
    inner join opportunities
        on
            periods.period_start <= opportunities.close_date
            and periods.period_end >= opportunities.close_date
    where opportunities.is_closed_by_as_of
),

worked_closing as (
    select
        worked.period_type,
        worked.period_start,
        worked.opportunity_id,
        opportunities.is_closed_by_as_of
        and opportunities.close_date >= periods.period_start
        and opportunities.close_date <= periods.period_end as is_closed_in_period,
        case
            when
                opportunities.is_closed_by_as_of
                and opportunities.close_date >= periods.period_start
                and opportunities.close_date <= periods.period_end
                then opportunities.close_date
            else periods.snapshot_date
        end as credit_date
    from worked
    inner join periods
        on
            worked.period_type = periods.period_type
            and worked.period_start = periods.period_start
    inner join opportunities
        on worked.opportunity_id = opportunities.opportunity_id
),

final as (
    select
        worked_closing.period_type,
        worked_closing.period_start,
        worked_closing.opportunity_id,
        worked_closing.is_closed_in_period,
        worked_closing.credit_date,
        team_days.team_id,
        team_days.manager_user_id
    from worked_closing
    inner join opportunities
        on worked_closing.opportunity_id = opportunities.opportunity_id
    left join team_days
        on
            opportunities.owner_user_id = team_days.user_id
            and worked_closing.credit_date = team_days.date_day
)

select * from final
