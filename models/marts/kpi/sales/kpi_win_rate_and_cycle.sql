{%- set breakdowns = {
    'company': "'all'",
    'rep': 'owner_user_id',
    'team': 'team_id',
    'manager': 'manager_user_id',
    'region': 'region',
    'opportunity_type': 'opportunity_type',
    'competitor': 'competitor_id',
    'competitor_presence': 'competitor_presence',
} -%}
{%- set touch_types = [('calls', 'call'), ('emails', 'email'), ('meetings', 'meeting'), ('demos', 'demo'), ('proposals', 'proposal')] -%}
{%- set days = 'cast(days_to_close as ' ~ crm_kpi.type_double() ~ ')' -%}
{%- set lead_days = 'cast(days_from_lead_to_close as ' ~ crm_kpi.type_double() ~ ')' -%}
{%- set measures = {
    'worked_deals': 'sum(is_worked)',
    'closed_deals': 'sum(is_closed)',
    'won_deals': 'sum(is_won)',
    'lost_deals': 'sum(is_lost)',
    'bookings': 'sum(bookings)',
    'median_days_to_close': crm_kpi.median(days),
    'mean_days_to_close': 'avg(' ~ days ~ ')',
    'won_deals_from_leads': 'count(days_from_lead_to_close)',
    'median_days_from_lead_to_close': crm_kpi.median(lead_days),
    'mean_days_from_lead_to_close': 'avg(' ~ lead_days ~ ')',
} -%}
{%- for column, activity_type in touch_types + [('touches', none)] %}{% do measures.update({column: 'sum(' ~ column ~ ')'}) %}{% endfor -%}

with

opportunities as (
    select * from {{ ref('int_opportunities_credited') }}
),

worked as (
    select * from {{ ref('int_opportunity_periods_worked') }}
),

won_deal_touches as (
    select * from {{ ref('int_won_deal_touches') }}
),

periods as (
    select * from {{ ref('int_periods_spined') }}
    where period_type in ('month', 'quarter')
),

members as (
    select * from {{ ref('int_breakdown_members') }}
),

standing as (
    select * from {{ ref('int_breakdown_periods_spined') }}
),

{# Each deal worked in a period, credited to its owner and to the owner's team on its close date (closed
    in the period) or on the period's snapshot date (still open then, or closed later). -#}
deal_periods as (
    select
        worked.period_type,
        worked.period_start,
        opportunities.owner_user_id,
        coalesce(worked.team_id, 'unassigned') as team_id,
        coalesce(worked.manager_user_id, 'unassigned') as manager_user_id,
        coalesce(opportunities.account_region, 'unknown') as region,
        opportunities.opportunity_type,
        coalesce(opportunities.competitor_id, 'none') as competitor_id,
        case when opportunities.has_competitor then 'with_competitor' else 'without_competitor' end as competitor_presence,
        1 as is_worked,
        case when worked.is_closed_in_period then 1 else 0 end as is_closed,
        case when worked.is_closed_in_period and opportunities.is_won_by_as_of then 1 else 0 end as is_won,
        case when worked.is_closed_in_period and opportunities.is_lost_by_as_of then 1 else 0 end as is_lost,
        case when worked.is_closed_in_period and opportunities.is_won_by_as_of then opportunities.amount else 0 end as bookings,
        case when worked.is_closed_in_period and opportunities.is_won_by_as_of then opportunities.days_to_close end as days_to_close,
        case when worked.is_closed_in_period and opportunities.is_won_by_as_of then opportunities.days_from_lead_to_close end as days_from_lead_to_close,
        {%- for column, activity_type in touch_types %}
        case when worked.is_closed_in_period and opportunities.is_won_by_as_of then coalesce(won_deal_touches.{{ column }}, 0) else 0 end as {{ column }},
        {%- endfor %}
        case when worked.is_closed_in_period and opportunities.is_won_by_as_of then coalesce(won_deal_touches.touches, 0) else 0 end as touches
    from worked
    inner join opportunities
        on worked.opportunity_id = opportunities.opportunity_id
    left join won_deal_touches
        on worked.opportunity_id = won_deal_touches.opportunity_id
),

measured as (
    {{ crm_kpi.rollup_to_breakdowns('deal_periods', breakdowns, measures) }}
),

{# The regions, deal types, competitors and competitor presences that ever had a worked deal. -#}
seen_values as (
    select distinct
        breakdown,
        breakdown_id
    from measured
    where breakdown in ('region', 'opportunity_type', 'competitor', 'competitor_presence')
),

names as (
    select * from members
    union all
    select
        breakdown,
        breakdown_id,
        breakdown_id as breakdown_name
    from seen_values
    where breakdown in ('region', 'opportunity_type', 'competitor_presence')
),

{# Zero rows: the company, every team and team manager, every closer while employed, and every region,
    deal type and competitor that ever had a worked deal, in every period. -#}
standing_rows as (
    select * from standing
    where breakdown in ('company', 'team', 'manager', 'rep')
    union
    select
        periods.period_type,
        periods.period_start,
        seen_values.breakdown,
        seen_values.breakdown_id
    from periods
    cross join seen_values
),

breakdown_rows as (
    {{ crm_kpi.with_standing_rows('measured', 'standing_rows', 'names', measures.keys() | list) }}
),

counted as (
    select
        period_type,
        period_start,
        period_end,
        breakdown,
        breakdown_id,
        breakdown_name,
        coalesce(worked_deals, 0) as worked_deals,
        coalesce(closed_deals, 0) as closed_deals,
        coalesce(won_deals, 0) as won_deals,
        coalesce(lost_deals, 0) as lost_deals,
        {{ crm_kpi.money('coalesce(bookings, 0)') }} as bookings,
        median_days_to_close,
        mean_days_to_close,
        coalesce(won_deals_from_leads, 0) as won_deals_from_leads,
        median_days_from_lead_to_close,
        mean_days_from_lead_to_close,
        {%- for column, activity_type in touch_types %}
        coalesce({{ column }}, 0) as {{ column }},
        {%- endfor %}
        coalesce(touches, 0) as touches
    from breakdown_rows
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
