{#-
    One row per lead (int_leads_lifecycle): how fast and how well reps worked it (see the
    lead_response docs block). A rep activity is an activity by a user whose role is sdr, bdr, ae or
    am (the definition of dim_reps.is_rep), on the lead, on or before the as-of date. The lead's owner
    is the rep it is measured for; the owner's team is the team of their membership on the day each
    clock starts (creation, MQL, first contact).
-#}
{%- set follow_up_days = crm_kpi.checked_var('follow_up_days') -%}

with

leads as (
    select * from {{ ref('int_leads_lifecycle') }}
),

activities as (
    select * from {{ ref('stg_crm__activities') }}
),

users as (
    select * from {{ ref('stg_crm__users') }}
),

memberships as (
    select * from {{ ref('stg_crm__team_memberships') }}
),

as_of_dates as (
    select * from {{ ref('int_as_of_dates') }}
),

rep_activities as (
    select
        activities.lead_id,
        activities.direction,
        activities.occurred_at,
        activities.outcome
    from activities
    inner join users
        on activities.user_id = users.user_id
    cross join as_of_dates
    where
        activities.lead_id is not null
        and users.role in ('sdr', 'bdr', 'ae', 'am')
        and cast(activities.occurred_at as date) <= as_of_dates.as_of_date
),

lead_activities as (
    select
        leads.lead_id,
        min(
            case
                when rep_activities.direction = 'outbound' and rep_activities.occurred_at >= leads.created_at
                    then rep_activities.occurred_at
            end
        ) as first_response_at,
        min(
            case
                when rep_activities.direction = 'outbound' and rep_activities.occurred_at >= leads.mql_at
                    then rep_activities.occurred_at
            end
        ) as first_mql_response_at,
        max(case when rep_activities.outcome in ('positive', 'neutral', 'negative', 'meeting_booked') then 1 else 0 end) as has_response,
        max(case when rep_activities.outcome in ('positive', 'meeting_booked') then 1 else 0 end) as has_positive_response,
        max(case when rep_activities.outcome = 'meeting_booked' then 1 else 0 end) as has_meeting_booked
    from leads
    inner join rep_activities
        on leads.lead_id = rep_activities.lead_id
    group by leads.lead_id
),

worked as (
    select
        leads.lead_id,
        leads.owner_user_id,
        leads.created_at,
        leads.mql_at,
        lead_activities.first_response_at,
        lead_activities.first_mql_response_at,
        coalesce(lead_activities.has_response, 0) = 1 as has_response,
        coalesce(lead_activities.has_positive_response, 0) = 1 as has_positive_response,
        coalesce(lead_activities.has_meeting_booked, 0) = 1 as has_meeting_booked
    from leads
    left join lead_activities
        on leads.lead_id = lead_activities.lead_id
),

-- The owner's team on the day each clock starts: the membership covering that day (latest start wins).
clock_days as (
    select
        lead_id,
        owner_user_id,
        'created' as clock,
        cast(created_at as date) as clock_on
    from worked
    union all
    select
        lead_id,
        owner_user_id,
        'mql' as clock,
        cast(mql_at as date) as clock_on
    from worked
    where mql_at is not null
    union all
    select
        lead_id,
        owner_user_id,
        'contacted' as clock,
        cast(first_response_at as date) as clock_on
    from worked
    where first_response_at is not null
),

clock_teams as (
    select
        clock_days.lead_id,
        clock_days.clock,
        memberships.team_id,
        row_number() over (
            partition by clock_days.lead_id, clock_days.clock
            order by memberships.started_on desc, memberships.team_id asc
        ) as membership_rank
    from clock_days
    inner join memberships
        on
            clock_days.owner_user_id = memberships.user_id
            and clock_days.clock_on >= memberships.started_on
            and (clock_days.clock_on <= memberships.ended_on or memberships.ended_on is null)
),

lead_teams as (
    select
        lead_id,
        max(case when clock = 'created' then team_id end) as created_team_id,
        max(case when clock = 'mql' then team_id end) as mql_team_id,
        max(case when clock = 'contacted' then team_id end) as contacted_team_id
    from clock_teams
    where membership_rank = 1
    group by lead_id
),

final as (
    select
        worked.lead_id,
        worked.owner_user_id,
        lead_teams.created_team_id,
        lead_teams.mql_team_id,
        lead_teams.contacted_team_id,
        worked.created_at,
        worked.mql_at,
        worked.first_response_at,
        {{ crm_kpi.days_between('worked.created_at', 'worked.first_response_at') }} as response_days,
        worked.first_mql_response_at,
        {{ crm_kpi.days_between('worked.mql_at', 'worked.first_mql_response_at') }} as mql_response_days,
        coalesce(
            {{ crm_kpi.days_between('worked.mql_at', 'worked.first_mql_response_at') }} <= {{ follow_up_days }},
            false
        ) as is_followed_up,
        worked.has_response,
        worked.has_positive_response,
        worked.has_meeting_booked
    from worked
    left join lead_teams
        on worked.lead_id = lead_teams.lead_id
)

select * from final
