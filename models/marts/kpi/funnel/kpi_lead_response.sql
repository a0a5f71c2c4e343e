{#-
    F6-F9 per period (ISO week, month, quarter) and per rep (the lead's owner), team and all leads.
    Each measure counts in the period, and the team, of the moment its clock starts: lead creation
    (response time), MQL (MQL response time, follow-up), first contact (responses, meetings).
-#}
{%- set groupings = [
    {'level': 'rep', 'key': "coalesce(owner_user_id, 'unassigned')"},
    {'level': 'team', 'key': "coalesce(team_id, 'no_team')"},
    {'level': 'all', 'key': "'all'"},
] -%}

{#- One row per clock start, with the measures that clock starts (every other measure 0, or null for days). -#}
{%- set double_null = 'cast(null as ' ~ crm_kpi.type_double() ~ ')' -%}
{%- set clock_defaults = {
    'is_lead': '0', 'is_lead_responded': '0', 'response_days': double_null, 'is_mql': '0', 'is_mql_responded': '0',
    'mql_response_days': double_null, 'is_followed_up': '0', 'is_contacted': '0', 'is_prospect_responded': '0',
    'is_prospect_positive': '0', 'is_prospect_meeting_booked': '0',
} -%}
{%- set clocks = [
    {'team': 'created_team_id', 'at': 'created_at', 'where': none, 'measures': {
        'is_lead': '1',
        'is_lead_responded': 'case when first_response_at is not null then 1 else 0 end',
        'response_days': 'cast(response_days as ' ~ crm_kpi.type_double() ~ ')'}},
    {'team': 'mql_team_id', 'at': 'mql_at', 'where': 'mql_at is not null', 'measures': {
        'is_mql': '1',
        'is_mql_responded': 'case when first_mql_response_at is not null then 1 else 0 end',
        'mql_response_days': 'cast(mql_response_days as ' ~ crm_kpi.type_double() ~ ')',
        'is_followed_up': 'case when is_followed_up then 1 else 0 end'}},
    {'team': 'contacted_team_id', 'at': 'first_response_at', 'where': 'first_response_at is not null', 'measures': {
        'is_contacted': '1',
        'is_prospect_responded': 'case when has_response then 1 else 0 end',
        'is_prospect_positive': 'case when has_positive_response then 1 else 0 end',
        'is_prospect_meeting_booked': 'case when has_meeting_booked then 1 else 0 end'}},
] -%}

with

leads as (
    select * from {{ ref('int_leads_worked') }}
),

periods as (
    select * from {{ ref('int_periods_spined') }}
),

-- One row per clock start, with the measures that clock starts (every other measure 0, or null for days).
clock_events as (
    {%- for clock in clocks %}
    select
        lead_id,
        owner_user_id,
        {%- for column, default in clock_defaults.items() %}
        {{ clock.measures.get(column, default) }} as {{ column }},
        {%- endfor %}
        {{ clock.team }} as team_id,
        cast({{ clock.at }} as date) as event_on
    from leads
    {%- if clock.where %}
    where {{ clock.where }}
    {%- endif %}
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
),

period_events as (
    select
        periods.period_type,
        periods.period_start,
        clock_events.*
    from clock_events
    inner join periods
        on
            clock_events.event_on >= periods.period_start
            and clock_events.event_on <= periods.period_end
),

{%- set measures %}
        sum(period_events.is_lead) as leads,
        sum(period_events.is_lead_responded) as leads_responded,
        {{ crm_kpi.median('period_events.response_days') }} as median_response_days,
        {{ crm_kpi.continuous_percentile('period_events.response_days', 0.9) }} as p90_response_days,
        sum(period_events.is_mql) as mqls,
        sum(period_events.is_mql_responded) as mqls_responded,
        {{ crm_kpi.median('period_events.mql_response_days') }} as median_mql_response_days,
        {{ crm_kpi.continuous_percentile('period_events.mql_response_days', 0.9) }} as p90_mql_response_days,
        sum(period_events.is_followed_up) as mqls_followed_up,
        sum(period_events.is_contacted) as prospects_contacted,
        sum(period_events.is_prospect_responded) as prospects_responded,
        sum(period_events.is_prospect_positive) as prospects_positive,
        sum(period_events.is_prospect_meeting_booked) as prospects_meeting_booked
{%- endset %}

grouped as (
    {%- for grouping in groupings %}
    select
        period_events.period_type,
        period_events.period_start,
        '{{ grouping.level }}' as grouping_level,
        {{ grouping.key }} as group_id,
        {{- measures }}
    from period_events
    group by
        {%- if grouping.level != 'all' %}
        {{ grouping.key }},
        {%- endif %}
        period_events.period_type,
        period_events.period_start
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
),

-- Reps and teams with a clock start in the period; all leads in every period of the spine (zeros).
spined as (
    select
        periods.period_type,
        periods.period_start,
        periods.period_end,
        grouped.grouping_level,
        grouped.group_id
    from periods
    inner join grouped
        on
            periods.period_type = grouped.period_type
            and periods.period_start = grouped.period_start
    where grouped.grouping_level <> 'all'
    union all
    select
        periods.period_type,
        periods.period_start,
        periods.period_end,
        'all' as grouping_level,
        'all' as group_id
    from periods
),

counted as (
    select
        spined.period_type,
        spined.period_start,
        spined.period_end,
        spined.grouping_level,
        spined.group_id,
        {%- for column in ['leads', 'leads_responded', 'mqls', 'mqls_responded', 'mqls_followed_up', 'prospects_contacted', 'prospects_responded', 'prospects_positive', 'prospects_meeting_booked'] %}
        coalesce(grouped.{{ column }}, 0) as {{ column }},
        {%- endfor %}
        grouped.median_response_days,
        grouped.p90_response_days,
        grouped.median_mql_response_days,
        grouped.p90_mql_response_days
    from spined
    left join grouped
        on
            spined.period_type = grouped.period_type
            and spined.period_start = grouped.period_start
            and spined.grouping_level = grouped.grouping_level
            and spined.group_id = grouped.group_id
),

final as (
    select
        period_type,
        period_start,
        period_end,
        grouping_level,
        group_id,
        cast(leads as {{ dbt.type_bigint() }}) as leads,
        cast(leads_responded as {{ dbt.type_bigint() }}) as leads_responded,
        cast(leads - leads_responded as {{ dbt.type_bigint() }}) as leads_never_touched,
        cast(median_response_days as {{ crm_kpi.type_double() }}) as median_response_days,
        cast(p90_response_days as {{ crm_kpi.type_double() }}) as p90_response_days,
        cast(mqls as {{ dbt.type_bigint() }}) as mqls,
        cast(mqls_responded as {{ dbt.type_bigint() }}) as mqls_responded,
        cast(mqls - mqls_responded as {{ dbt.type_bigint() }}) as mqls_never_touched,
        cast(median_mql_response_days as {{ crm_kpi.type_double() }}) as median_mql_response_days,
        cast(p90_mql_response_days as {{ crm_kpi.type_double() }}) as p90_mql_response_days,
        cast(mqls_followed_up as {{ dbt.type_bigint() }}) as mqls_followed_up,
        {{ crm_kpi.safe_divide('mqls_followed_up', 'mqls') }} as follow_up_rate,
        cast(prospects_contacted as {{ dbt.type_bigint() }}) as prospects_contacted,
        cast(prospects_responded as {{ dbt.type_bigint() }}) as prospects_responded,
        cast(prospects_positive as {{ dbt.type_bigint() }}) as prospects_positive,
        cast(prospects_meeting_booked as {{ dbt.type_bigint() }}) as prospects_meeting_booked,
        {{ crm_kpi.safe_divide('prospects_positive', 'prospects_contacted') }} as positive_response_rate,
        {{ crm_kpi.safe_divide('prospects_meeting_booked', 'prospects_responded') }} as meeting_booking_rate
    from counted
)

select * from final
