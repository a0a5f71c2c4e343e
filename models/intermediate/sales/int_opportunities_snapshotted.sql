{#-
    The open pipeline at every period end: one row per reporting period (ISO week, month, quarter of
    int_periods_spined) and opportunity open at the period's snapshot date (its last day, or the as-of
    date for the period that holds it), with the stage, amount and close date the stage history shows at
    the end of that day (int_opportunity_states), and the owner's team and manager on that day. Without
    any stage history the deals open at the snapshot are known from their dates, their stage, amount and
    close date are not (null, is_from_stage_history false).
-#}
with

states as (
    select * from {{ ref('int_opportunity_states') }}
),

periods as (
    select * from {{ ref('int_periods_spined') }}
),

team_days as (
    select * from {{ ref('int_team_memberships_daily') }}
),

open_at_snapshot as (
    select
        periods.period_type,
        periods.period_start,
        periods.period_end,
        periods.snapshot_date,
        cast({{ dbt.dateadd('day', 1, 'periods.period_end') }} as date) as next_period_start,
        case periods.period_type
            when 'week' then cast({{ dbt.dateadd('day', 7, 'periods.period_end') }} as date)
            when 'month' then cast({{ dbt.last_day(dbt.dateadd('day', 1, 'periods.period_end'), 'month') }} as date)
            else cast({{ dbt.last_day(dbt.dateadd('day', 1, 'periods.period_end'), 'quarter') }} as date)
        end as next_period_end,
        states.opportunity_id,
        states.stage,
        states.stage_probability,
        states.amount,
        states.close_date,
        states.owner_user_id,
        states.account_id,
        states.source_lead_id,
        states.opportunity_type,
        states.is_from_stage_history
    from periods
    inner join states
        on
            periods.snapshot_date >= states.valid_from_on
            and (periods.snapshot_date < states.valid_to_on or states.valid_to_on is null)
    where states.is_open
),

final as (
    select
        open_at_snapshot.period_type,
        open_at_snapshot.period_start,
        open_at_snapshot.period_end,
        open_at_snapshot.snapshot_date,
        open_at_snapshot.opportunity_id,
        open_at_snapshot.stage,
        open_at_snapshot.stage_probability,
        open_at_snapshot.amount,
        {#- Exact to 8 decimals on the row: a sum of doubles depends on the order rows are added in (threads). #}
        cast(open_at_snapshot.amount * open_at_snapshot.stage_probability as decimal(28, 8)) as weighted_amount,
        open_at_snapshot.close_date,
        open_at_snapshot.close_date >= open_at_snapshot.next_period_start
        and open_at_snapshot.close_date <= open_at_snapshot.next_period_end as is_closing_next_period,
        open_at_snapshot.owner_user_id,
        team_days.team_id,
        team_days.manager_user_id,
        open_at_snapshot.account_id,
        open_at_snapshot.source_lead_id,
        open_at_snapshot.opportunity_type,
        open_at_snapshot.is_from_stage_history
    from open_at_snapshot
    left join team_days
        on
            open_at_snapshot.owner_user_id = team_days.user_id
            and open_at_snapshot.snapshot_date = team_days.date_day
)

select * from final
