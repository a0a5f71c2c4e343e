{%- set breakdowns = [
    ('company', "'all'"),
    ('rep', 'owner_user_id'),
    ('team', 'team_id'),
    ('manager', 'manager_user_id'),
    ('region', 'region'),
    ('opportunity_type', 'opportunity_type'),
    ('competitor', 'competitor_id'),
    ('competitor_presence', 'competitor_presence'),
] -%}
{%- set touch_types = [('calls', 'call'), ('emails', 'email'), ('meetings', 'meeting'), ('demos', 'demo'), ('proposals', 'proposal')] -%}

with

opportunities as (
    select * from {{ ref('int_opportunities_credited') }}
),

states as (
    select * from {{ ref('int_opportunity_states') }}
),

all_periods as (
    select * from {{ ref('int_periods_spined') }}
),

team_days as (
    select * from {{ ref('int_team_memberships_daily') }}
),

activities as (
    select * from {{ ref('stg_crm__activities') }}
),

users as (
    select * from {{ ref('dim_reps') }}
),

teams as (
    select * from {{ ref('dim_teams') }}
),

competitors as (
    select * from {{ ref('stg_crm__competitors') }}
),

periods as (
    select * from all_periods
    where period_type in ('month', 'quarter')
),

{# Worked in a period: open at some moment of it (stage history), or closed in it. -#}
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

{# Touches of a won deal: activities on it or on its source lead, on or before its close date. -#}
won_deal_activities as (
    select
        opportunities.opportunity_id,
        activities.activity_id,
        activities.activity_type
    from opportunities
    inner join activities
        on opportunities.opportunity_id = activities.opportunity_id
    where
        opportunities.is_won_by_as_of
        and cast(activities.occurred_at as date) <= opportunities.close_date
    union
    select
        opportunities.opportunity_id,
        activities.activity_id,
        activities.activity_type
    from opportunities
    inner join activities
        on opportunities.source_lead_id = activities.lead_id
    where
        opportunities.is_won_by_as_of
        and cast(activities.occurred_at as date) <= opportunities.close_date
),

won_deal_touches as (
    select
        opportunity_id,
        {%- for column, activity_type in touch_types %}
        sum(case when activity_type = '{{ activity_type }}' then 1 else 0 end) as {{ column }},
        {%- endfor %}
        count(*) as touches
    from won_deal_activities
    group by opportunity_id
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

{# Each deal worked in a period, credited to its owner and to the owner's team on its close date (closed
    in the period) or on the period's snapshot date (still open then, or closed later). -#}
deal_periods as (
    select
        worked_closing.period_type,
        worked_closing.period_start,
        opportunities.owner_user_id,
        coalesce(team_days.team_id, 'unassigned') as team_id,
        coalesce(team_days.manager_user_id, 'unassigned') as manager_user_id,
        coalesce(opportunities.account_region, 'unknown') as region,
        opportunities.opportunity_type,
        coalesce(opportunities.competitor_id, 'none') as competitor_id,
        case when opportunities.has_competitor then 'with_competitor' else 'without_competitor' end as competitor_presence,
        1 as is_worked,
        case when worked_closing.is_closed_in_period then 1 else 0 end as is_closed,
        case when worked_closing.is_closed_in_period and opportunities.is_won_by_as_of then 1 else 0 end as is_won,
        case when worked_closing.is_closed_in_period and opportunities.is_lost_by_as_of then 1 else 0 end as is_lost,
        case when worked_closing.is_closed_in_period and opportunities.is_won_by_as_of then opportunities.amount else 0 end as bookings,
        case when worked_closing.is_closed_in_period and opportunities.is_won_by_as_of then opportunities.days_to_close end as days_to_close,
        case when worked_closing.is_closed_in_period and opportunities.is_won_by_as_of then opportunities.days_from_lead_to_close end as days_from_lead_to_close,
        {%- for column, activity_type in touch_types %}
        case when worked_closing.is_closed_in_period and opportunities.is_won_by_as_of then coalesce(won_deal_touches.{{ column }}, 0) else 0 end as {{ column }},
        {%- endfor %}
        case when worked_closing.is_closed_in_period and opportunities.is_won_by_as_of then coalesce(won_deal_touches.touches, 0) else 0 end as touches
    from worked_closing
    inner join opportunities
        on worked_closing.opportunity_id = opportunities.opportunity_id
    left join team_days
        on
            opportunities.owner_user_id = team_days.user_id
            and worked_closing.credit_date = team_days.date_day
    left join won_deal_touches
        on worked_closing.opportunity_id = won_deal_touches.opportunity_id
),

deal_breakdowns as (
    {%- for breakdown, key in breakdowns %}
    select
        period_type,
        period_start,
        '{{ breakdown }}' as breakdown,
        {{ key }} as breakdown_id,
        is_worked,
        is_closed,
        is_won,
        is_lost,
        bookings,
        days_to_close,
        days_from_lead_to_close,
        {%- for column, activity_type in touch_types %}
        {{ column }},
        {%- endfor %}
        touches
    from deal_periods
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
),

measured as (
    select
        period_type,
        period_start,
        breakdown,
        breakdown_id,
        sum(is_worked) as worked_deals,
        sum(is_closed) as closed_deals,
        sum(is_won) as won_deals,
        sum(is_lost) as lost_deals,
        sum(bookings) as bookings,
        {{ crm_kpi.median('cast(days_to_close as ' ~ crm_kpi.type_double() ~ ')') }} as median_days_to_close,
        avg(cast(days_to_close as {{ crm_kpi.type_double() }})) as mean_days_to_close,
        count(days_from_lead_to_close) as won_deals_from_leads,
        {{ crm_kpi.median('cast(days_from_lead_to_close as ' ~ crm_kpi.type_double() ~ ')') }} as median_days_from_lead_to_close,
        avg(cast(days_from_lead_to_close as {{ crm_kpi.type_double() }})) as mean_days_from_lead_to_close,
        {%- for column, activity_type in touch_types %}
        sum({{ column }}) as {{ column }},
        {%- endfor %}
        sum(touches) as touches
    from deal_breakdowns
    group by
        period_type,
        period_start,
        breakdown,
        breakdown_id
),

names as (
    select
        'company' as breakdown,
        'all' as breakdown_id,
        'Company' as breakdown_name
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
        'competitor' as breakdown,
        competitor_id as breakdown_id,
        competitor_name as breakdown_name
    from competitors
    union all
    select
        'competitor' as breakdown,
        'none' as breakdown_id,
        'No competitor' as breakdown_name
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
    union all
    select distinct
        breakdown,
        breakdown_id,
        breakdown_id as breakdown_name
    from deal_breakdowns
    where breakdown in ('region', 'opportunity_type', 'competitor_presence')
),

seen_values as (
    select distinct
        breakdown,
        breakdown_id
    from deal_breakdowns
    where breakdown in ('region', 'opportunity_type', 'competitor', 'competitor_presence')
),

{# Zero rows: the company, every team and team manager, every closer while employed, and every region,
    deal type and competitor that ever had a worked deal, in every period. -#}
spine as (
    select
        periods.period_type,
        periods.period_start,
        names.breakdown,
        names.breakdown_id
    from periods
    cross join names
    where names.breakdown in ('company', 'team', 'manager') and names.breakdown_id <> 'unassigned'
    union
    select
        periods.period_type,
        periods.period_start,
        seen.breakdown,
        seen.breakdown_id
    from periods
    cross join seen_values as seen
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

counted as (
    select
        spine.period_type,
        spine.period_start,
        periods.period_end,
        spine.breakdown,
        spine.breakdown_id,
        names.breakdown_name,
        coalesce(measured.worked_deals, 0) as worked_deals,
        coalesce(measured.closed_deals, 0) as closed_deals,
        coalesce(measured.won_deals, 0) as won_deals,
        coalesce(measured.lost_deals, 0) as lost_deals,
        {{ crm_kpi.money('coalesce(measured.bookings, 0)') }} as bookings,
        measured.median_days_to_close,
        measured.mean_days_to_close,
        coalesce(measured.won_deals_from_leads, 0) as won_deals_from_leads,
        measured.median_days_from_lead_to_close,
        measured.mean_days_from_lead_to_close,
        {%- for column, activity_type in touch_types %}
        coalesce(measured.{{ column }}, 0) as {{ column }},
        {%- endfor %}
        coalesce(measured.touches, 0) as touches
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
),

final as (
    select
        period_type,
        period_start,
        period_end,
        breakdown,
        breakdown_id,
        breakdown_name,
        cast(worked_deals as {{ dbt.type_bigint() }}) as worked_deals,
        cast(closed_deals as {{ dbt.type_bigint() }}) as closed_deals,
        cast(won_deals as {{ dbt.type_bigint() }}) as won_deals,
        cast(lost_deals as {{ dbt.type_bigint() }}) as lost_deals,
        bookings,
        {{ crm_kpi.safe_divide('won_deals', 'closed_deals') }} as win_rate,
        {{ crm_kpi.safe_divide('won_deals', 'worked_deals') }} as close_ratio,
        {{ crm_kpi.safe_divide('won_deals', 'lost_deals') }} as win_loss_ratio,
        {{ crm_kpi.safe_divide('bookings', 'won_deals') }} as average_deal_size,
        median_days_to_close,
        mean_days_to_close,
        cast(won_deals_from_leads as {{ dbt.type_bigint() }}) as won_deals_from_leads,
        median_days_from_lead_to_close,
        mean_days_from_lead_to_close,
        cast(touches as {{ dbt.type_bigint() }}) as touches,
        {%- for column, activity_type in touch_types %}
        cast({{ column }} as {{ dbt.type_bigint() }}) as {{ column }},
        {%- endfor %}
        {%- for column, activity_type in touch_types %}
        {{ crm_kpi.safe_divide(column, 'won_deals') }} as {{ column }}_per_won_deal,
        {%- endfor %}
        {{ crm_kpi.safe_divide('touches', 'won_deals') }} as touches_per_won_deal
    from counted
)

select * from final
