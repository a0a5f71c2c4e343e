{%- set breakdowns = [
    ('company', "'all'"),
    ('stage', 'stage'),
    ('rep', 'owner_user_id'),
    ('team', 'team_id'),
    ('manager', 'manager_user_id'),
] -%}

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

users as (
    select * from {{ ref('dim_reps') }}
),

teams as (
    select * from {{ ref('dim_teams') }}
),

stages as (
    select * from {{ ref('stg_crm__stages') }}
),

open_stages as (
    select stage from stages
    where not is_closed
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
    {%- for breakdown, key in breakdowns %}
    select
        period_type,
        period_start,
        '{{ breakdown }}' as breakdown,
        {{ key }} as breakdown_id,
        sum(open_deals) as open_deals,
        sum(open_value) as open_value,
        sum(weighted_open_value) as weighted_open_value,
        sum(open_value_closing_next_period) as open_value_closing_next_period,
        sum(weighted_value_closing_next_period) as weighted_value_closing_next_period,
        sum(created_deals) as created_deals,
        sum(created_value) as created_value
    from pipeline_facts
    group by
        period_type,
        period_start{% if key != "'all'" %},
        {{ key }}{% endif %}
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
),

names as (
    select
        'company' as breakdown,
        'all' as breakdown_id,
        'Company' as breakdown_name
    union all
    select
        'stage' as breakdown,
        stage as breakdown_id,
        stage as breakdown_name
    from stages
    union all
    select
        'rep' as breakdown,
        user_id as breakdown_id,
        full_name as breakdown_name
    from users
    union all
    select
        'team' as breakdown,
        team_id as breakdown_id,
        team_name as breakdown_name
    from teams
    union all
    select distinct
        'manager' as breakdown,
        users.user_id as breakdown_id,
        users.full_name as breakdown_name
    from users
    inner join teams
        on users.user_id = teams.manager_user_id
    union all
    select
        'team' as breakdown,
        'unassigned' as breakdown_id,
        'Unassigned' as breakdown_name
    union all
    select
        'manager' as breakdown,
        'unassigned' as breakdown_id,
        'Unassigned' as breakdown_name
),

{# Rows a leaderboard needs even at zero: the company, every open stage, every team and manager, and
    every closer employed during the period. -#}
spine as (
    select
        periods.period_type,
        periods.period_start,
        names.breakdown,
        names.breakdown_id
    from periods
    cross join names
    where
        names.breakdown = 'company'
        or (names.breakdown in ('team', 'manager') and names.breakdown_id <> 'unassigned')
    union
    select
        periods.period_type,
        periods.period_start,
        'stage' as breakdown,
        open_stages.stage as breakdown_id
    from periods
    cross join open_stages
    union
    select
        periods.period_type,
        periods.period_start,
        'rep' as breakdown,
        users.user_id as breakdown_id
    from periods
    inner join users
        on
            users.is_closer
            and periods.period_end >= users.hired_on
            and (periods.period_start <= users.left_on or users.left_on is null)
    union
    select
        period_type,
        period_start,
        breakdown,
        breakdown_id
    from measured
),

{# No deal at all: an empty mart. No stage history: deal counts from the deals' dates, values null, no stage rows. -#}
source_presence as (
    {{ crm_kpi.stage_history_presence('states') }}
),

final as (
    select
        spine.period_type,
        spine.period_start,
        periods.period_end,
        periods.snapshot_date,
        spine.breakdown,
        spine.breakdown_id,
        names.breakdown_name,
        cast(coalesce(measured.open_deals, 0) as {{ dbt.type_bigint() }}) as open_deals,
        {{ crm_kpi.known_with_stage_history(crm_kpi.money('coalesce(measured.open_value, 0)')) }} as open_value,
        {{ crm_kpi.known_with_stage_history(crm_kpi.money('coalesce(measured.weighted_open_value, 0)')) }} as weighted_open_value,
        {{ crm_kpi.known_with_stage_history(crm_kpi.money('coalesce(measured.open_value_closing_next_period, 0)')) }} as open_value_closing_next_period,
        {{ crm_kpi.known_with_stage_history(crm_kpi.money('coalesce(measured.weighted_value_closing_next_period, 0)')) }} as weighted_value_closing_next_period,
        cast(coalesce(measured.created_deals, 0) as {{ dbt.type_bigint() }}) as created_deals,
        {{ crm_kpi.known_with_stage_history(crm_kpi.money('coalesce(measured.created_value, 0)')) }} as created_value
    from spine
    inner join periods
        on
            spine.period_type = periods.period_type
            and spine.period_start = periods.period_start
    left join measured
        on
            spine.period_type = measured.period_type
            and spine.period_start = measured.period_start
            and spine.breakdown = measured.breakdown
            and spine.breakdown_id = measured.breakdown_id
    left join names
        on
            spine.breakdown = names.breakdown
            and spine.breakdown_id = names.breakdown_id
    cross join source_presence
    where
        source_presence.state_rows > 0
        and (source_presence.has_stage_history or spine.breakdown <> 'stage')
)

select * from final
