{#-
    The weights are dbt vars (opportunity_score_weights), normalised here to sum to 1, so each factor's
    part is factor x its share of the weights and the parts add up to the score's points.
-#}
{%- set factors = ['stage', 'amount', 'age', 'activity', 'fit'] -%}
{%- set weights = crm_kpi.checked_var('opportunity_score_weights') -%}
{%- set ns = namespace(total_weight=0.0) -%}
{%- for factor in factors -%}
{%- set ns.total_weight = ns.total_weight + weights[factor] -%}
{%- endfor -%}
{%- set total_weight = ns.total_weight -%}
{%- if total_weight <= 0 -%}
    {{ exceptions.raise_compiler_error("var opportunity_score_weights: at least one weight must be positive") }}
{%- endif -%}

with

snapshots as (
    select * from {{ ref('int_opportunities_snapshotted') }}
),

opportunities as (
    select * from {{ ref('int_opportunities_credited') }}
),

activities as (
    select * from {{ ref('fct_activities') }}
),

as_of_dates as (
    select * from {{ ref('int_as_of_dates') }}
),

{# The deals open at the end of the as-of date (the as-of month's snapshot), as the stage history shows them (none without it). -#}
open_deals as (
    select
        snapshots.opportunity_id,
        as_of_dates.as_of_date,
        snapshots.owner_user_id,
        snapshots.account_id,
        snapshots.opportunity_type,
        snapshots.stage,
        snapshots.stage_probability,
        snapshots.amount,
        snapshots.close_date,
        snapshots.source_lead_id
    from snapshots
    inner join as_of_dates
        on snapshots.snapshot_date = as_of_dates.as_of_date
    where
        snapshots.period_type = 'month'
        and snapshots.is_from_stage_history
),

{# A segment's typical deal: the median cycle and amount of its won deals (segment = deal type). -#}
segments as (
    select
        opportunity_type,
        {{ crm_kpi.median('cast(days_to_close as ' ~ crm_kpi.type_double() ~ ')') }} as typical_cycle_days,
        {{ crm_kpi.median('cast(amount as ' ~ crm_kpi.type_double() ~ ')') }} as typical_amount
    from opportunities
    where is_won_by_as_of
    group by opportunity_type
),

{# Fit: the win rate of closed deals of accounts in the same industry, else of all closed deals. -#}
industry_win_rates as (
    select
        account_industry,
        {{ crm_kpi.safe_divide('sum(case when is_won_by_as_of then 1 else 0 end)', 'count(*)') }} as win_rate
    from opportunities
    where is_closed_by_as_of and account_industry is not null
    group by account_industry
),

overall_win_rate as (
    select {{ crm_kpi.safe_divide('sum(case when is_won_by_as_of then 1 else 0 end)', 'count(*)') }} as win_rate
    from opportunities
    where is_closed_by_as_of
),

{# The last activity on the deal or on the lead it came from, on or before the as-of date. -#}
deal_activities as (
    select
        open_deals.opportunity_id,
        cast(activities.occurred_at as date) as occurred_on
    from open_deals
    inner join activities
        on open_deals.opportunity_id = activities.opportunity_id
    where cast(activities.occurred_at as date) <= open_deals.as_of_date
    union all
    select
        open_deals.opportunity_id,
        cast(activities.occurred_at as date) as occurred_on
    from open_deals
    inner join activities
        on open_deals.source_lead_id = activities.lead_id
    where cast(activities.occurred_at as date) <= open_deals.as_of_date
),

last_activities as (
    select
        opportunity_id,
        max(occurred_on) as last_activity_on
    from deal_activities
    group by opportunity_id
),

measured as (
    select
        open_deals.*,
        opportunities.account_industry,
        {{ dbt.datediff('cast(opportunities.created_at as date)', 'open_deals.as_of_date', 'day') }} as age_days,
        segments.typical_cycle_days,
        segments.typical_amount,
        {{ dbt.datediff('last_activities.last_activity_on', 'open_deals.as_of_date', 'day') }} as days_since_last_activity,
        coalesce(industry_win_rates.win_rate, overall_win_rate.win_rate, 0.5) as fit_factor
    from open_deals
    inner join opportunities
        on open_deals.opportunity_id = opportunities.opportunity_id
    left join segments
        on open_deals.opportunity_type = segments.opportunity_type
    left join last_activities
        on open_deals.opportunity_id = last_activities.opportunity_id
    left join industry_win_rates
        on opportunities.account_industry = industry_win_rates.account_industry
    cross join overall_win_rate
),

factored as (
    select
        measured.*,
        cast(measured.stage_probability as {{ crm_kpi.type_double() }}) as stage_factor,
        case
            when measured.typical_amount > 0 then least(cast(measured.amount as {{ crm_kpi.type_double() }}) / measured.typical_amount, 1.0)
            else 0.5
        end as amount_factor,
        case
            when measured.typical_cycle_days > 0 then greatest(0.0, least(1.0, 2 - measured.age_days / measured.typical_cycle_days))
            else 0.5
        end as age_factor,
        case
            when measured.days_since_last_activity is null then 0.0
            else greatest(0.0, 1 - measured.days_since_last_activity / cast({{ crm_kpi.checked_var('opportunity_score_stale_after_days') }} as {{ crm_kpi.type_double() }}))
        end as activity_factor
    from measured
),

parts as (
    select
        {%- for factor in factors %}
        cast({{ factor }}_factor as {{ crm_kpi.type_double() }}) * cast({{ (weights[factor] / total_weight) | round(12) }} as {{ crm_kpi.type_double() }}) as {{ factor }}_part,
        {%- endfor %}
        factored.*
    from factored
),

{# The points rounded to 12 decimals, so that float noise never takes them above 1. -#}
scored as (
    select
        parts.*,
        cast(round(cast(parts.stage_part + parts.amount_part + parts.age_part + parts.activity_part + parts.fit_part as decimal(28, 14)), 12) as {{ crm_kpi.type_double() }}) as score_points
    from parts
),

final as (
    select
        opportunity_id,
        as_of_date,
        owner_user_id,
        account_id,
        opportunity_type,
        stage,
        {{ crm_kpi.money('amount') }} as amount,
        close_date,
        account_industry,
        cast(age_days as integer) as age_days,
        cast(typical_cycle_days as {{ crm_kpi.type_double() }}) as typical_cycle_days,
        cast(typical_amount as {{ crm_kpi.type_double() }}) as typical_amount,
        cast(days_since_last_activity as integer) as days_since_last_activity,
        {%- for factor in factors %}
        cast({{ factor }}_factor as {{ crm_kpi.type_double() }}) as {{ factor }}_factor,
        {%- endfor %}
        {%- for factor in factors %}
        {{ factor }}_part,
        {%- endfor %}
        score_points,
        cast(least(5, 1 + floor(score_points * 5 + 1e-9)) as integer) as opportunity_score
    from scored
)

select * from final
