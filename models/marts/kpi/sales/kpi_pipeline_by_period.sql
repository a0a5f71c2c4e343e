{%- set breakdowns = {
    'company': "'all'",
    'stage': 'stage',
    'rep': 'owner_user_id',
    'team': 'team_id',
    'manager': 'manager_user_id',
} -%}
{%- set columns = ['open_deals', 'open_value', 'weighted_open_value', 'open_value_closing_next_period', 'weighted_value_closing_next_period', 'created_deals', 'created_value'] -%}
{%- set measures = {} -%}
{%- for column in columns %}{% do measures.update({column: 'sum(' ~ column ~ ')'}) %}{% endfor -%}

with

snapshots as (
    select * from {{ ref('int_opportunities_snapshotted') }}
),

states as (
    select * from {{ ref('int_opportunity_states') }}
),

periods as (
    select * from {{ ref('int_periods_spined') }}
),

team_days as (
    select * from {{ ref('int_team_memberships_daily') }}
),

members as (
    select * from {{ ref('int_breakdown_members') }}
),

standing as (
    select * from {{ ref('int_breakdown_periods_spined') }}
),

open_deals as (
    select
        period_type,
        period_start,
        stage,
        owner_user_id,
        coalesce(team_id, 'unassigned') as team_id,
        coalesce(manager_user_id, 'unassigned') as manager_user_id,
        1 as open_deals,
        amount as open_value,
        weighted_amount as weighted_open_value,
        case when is_closing_next_period then amount else 0 end as open_value_closing_next_period,
        case when is_closing_next_period then weighted_amount else 0 end as weighted_value_closing_next_period,
        0 as created_deals,
        0 as created_value
    from snapshots
),

created_deals as (
    select
        periods.period_type,
        periods.period_start,
        states.stage,
        states.owner_user_id,
        coalesce(team_days.team_id, 'unassigned') as team_id,
        coalesce(team_days.manager_user_id, 'unassigned') as manager_user_id,
        0 as open_deals,
        0 as open_value,
        0 as weighted_open_value,
        0 as open_value_closing_next_period,
        0 as weighted_value_closing_next_period,
        1 as created_deals,
        states.amount as created_value
    from states
    inner join periods
        on
            states.valid_from_on >= periods.period_start
            and states.valid_from_on <= periods.period_end
    left join team_days
        on
            states.owner_user_id = team_days.user_id
            and states.valid_from_on = team_days.date_day
    where states.state_number = 1
),

pipeline_facts as (
    select * from open_deals
    union all
    select * from created_deals
),

measured as (
    {{ crm_kpi.rollup_to_breakdowns('pipeline_facts', breakdowns, measures) }}
),

{# Rows a leaderboard needs even at zero: the company, every open stage, every team and manager, and
    every closer employed during the period. -#}
breakdown_rows as (
    {{ crm_kpi.with_standing_rows('measured', 'standing', 'members', measures.keys() | list, breakdowns.keys() | list) }}
),

{# No deal at all: an empty mart. No stage history: deal counts from the deals' dates, values null, no stage rows. -#}
source_presence as (
    {{ crm_kpi.stage_history_presence('states') }}
),

final as (
    select
        breakdown_rows.period_type,
        breakdown_rows.period_start,
        breakdown_rows.period_end,
        breakdown_rows.snapshot_date,
        breakdown_rows.breakdown,
        breakdown_rows.breakdown_id,
        breakdown_rows.breakdown_name,
        cast(coalesce(breakdown_rows.open_deals, 0) as {{ dbt.type_bigint() }}) as open_deals,
        {{ crm_kpi.known_with_stage_history(crm_kpi.money('coalesce(breakdown_rows.open_value, 0)')) }} as open_value,
        {{ crm_kpi.known_with_stage_history(crm_kpi.money('coalesce(breakdown_rows.weighted_open_value, 0)')) }} as weighted_open_value,
        {{ crm_kpi.known_with_stage_history(crm_kpi.money('coalesce(breakdown_rows.open_value_closing_next_period, 0)')) }} as open_value_closing_next_period,
        {{ crm_kpi.known_with_stage_history(crm_kpi.money('coalesce(breakdown_rows.weighted_value_closing_next_period, 0)')) }} as weighted_value_closing_next_period,
        cast(coalesce(breakdown_rows.created_deals, 0) as {{ dbt.type_bigint() }}) as created_deals,
        {{ crm_kpi.known_with_stage_history(crm_kpi.money('coalesce(breakdown_rows.created_value, 0)')) }} as created_value
    from breakdown_rows
    cross join source_presence
    where
        source_presence.state_rows > 0
        and (source_presence.has_stage_history or breakdown_rows.breakdown <> 'stage')
)

select * from final
