{%- set activity_types = [('calls', 'call'), ('emails', 'email'), ('meetings', 'meeting'), ('demos', 'demo'), ('proposals', 'proposal')] -%}
{%- set logged_types = "'call', 'email', 'meeting', 'demo', 'proposal'" -%}

with

activities as (
    select * from {{ ref('fct_activities') }}
),

opportunities as (
    select * from {{ ref('int_opportunities_credited') }}
),

leads as (
    select * from {{ ref('fct_leads') }}
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

{# One stream of counted events, each on the day it happened and credited to one user. -#}
events as (
    select
        user_id,
        cast(occurred_at as date) as event_on,
        activity_type as event_type
    from activities
    union all
    select
        leads.owner_user_id as user_id,
        cast(opportunities.created_at as date) as event_on,
        'opportunity_sourced' as event_type
    from opportunities
    inner join leads
        on opportunities.source_lead_id = leads.lead_id
    where leads.owner_user_id is not null
    union all
    select
        owner_user_id as user_id,
        cast(created_at as date) as event_on,
        'opportunity_created' as event_type
    from opportunities
    union all
    select
        owner_user_id as user_id,
        close_date as event_on,
        'deal_won' as event_type
    from opportunities
    where is_won_by_as_of
),

measured as (
    select
        periods.period_type,
        periods.period_start,
        events.user_id,
        {%- for column, activity_type in activity_types %}
        sum(case when events.event_type = '{{ activity_type }}' then 1 else 0 end) as {{ column }},
        {%- endfor %}
        sum(case when events.event_type in ({{ logged_types }}) then 1 else 0 end) as activities,
        sum(case when events.event_type = 'opportunity_sourced' then 1 else 0 end) as opportunities_sourced,
        sum(case when events.event_type = 'opportunity_created' then 1 else 0 end) as opportunities_created,
        sum(case when events.event_type = 'deal_won' then 1 else 0 end) as deals_won
    from events
    inner join periods
        on
            events.event_on >= periods.period_start
            and events.event_on <= periods.period_end
    group by
        periods.period_type,
        periods.period_start,
        events.user_id
),

{# Every rep (sdr, bdr, ae, am) in each period they were employed in, and anyone with an event. -#}
spine as (
    select
        periods.period_type,
        periods.period_start,
        users.user_id
    from periods
    inner join users
        on
            users.is_rep
            and periods.period_end >= users.hired_on
            and (periods.period_start <= users.left_on or users.left_on is null)
    union
    select
        period_type,
        period_start,
        user_id
    from measured
),

final as (
    select
        spine.period_type,
        spine.period_start,
        periods.period_end,
        spine.user_id,
        users.full_name as rep_name,
        users.role,
        team_days.team_id,
        {%- for column, activity_type in activity_types %}
        cast(coalesce(measured.{{ column }}, 0) as {{ dbt.type_bigint() }}) as {{ column }},
        {%- endfor %}
        cast(coalesce(measured.activities, 0) as {{ dbt.type_bigint() }}) as activities,
        cast(coalesce(measured.opportunities_sourced, 0) as {{ dbt.type_bigint() }}) as opportunities_sourced,
        cast(coalesce(measured.opportunities_created, 0) as {{ dbt.type_bigint() }}) as opportunities_created,
        cast(coalesce(measured.deals_won, 0) as {{ dbt.type_bigint() }}) as deals_won
    from spine
    inner join periods
        on
            spine.period_type = periods.period_type
            and spine.period_start = periods.period_start
    left join measured
        on
            spine.period_type = measured.period_type
            and spine.period_start = measured.period_start
            and spine.user_id = measured.user_id
    left join users
        on spine.user_id = users.user_id
    left join team_days
        on
            spine.user_id = team_days.user_id
            and periods.snapshot_date = team_days.date_day
)

select * from final
