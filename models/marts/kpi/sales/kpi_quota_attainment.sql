{#- Every measure adds up from the reps (the rep rows) and from the pieces (teams, managers, company). -#}
{%- set measures = {'bookings': 'sum(bookings)', 'won_deals': 'sum(won_deals)', 'quota': 'sum(quota)',
    'reps_with_quota': 'sum(reps_with_quota)', 'reps_at_or_above_quota': 'sum(reps_at_or_above_quota)'} -%}

with

opportunities as (
    select * from {{ ref('int_opportunities_credited') }}
),

{# Each quota row rounded to the cent once; a team's quota is its own or its members' sum (int_quota_months). -#}
quota_months as (
    select * from {{ ref('int_quota_months') }}
),

team_days as (
    select * from {{ ref('int_team_memberships_daily') }}
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

teams as (
    select * from {{ ref('dim_teams') }}
),

won_deals as (
    select
        periods.period_type,
        periods.period_start,
        opportunities.owner_user_id,
        coalesce(opportunities.team_id_at_close, 'unassigned') as team_id,
        coalesce(opportunities.manager_user_id_at_close, 'unassigned') as manager_user_id,
        opportunities.amount
    from opportunities
    inner join periods
        on
            opportunities.close_date >= periods.period_start
            and opportunities.close_date <= periods.period_end
    where opportunities.is_won_by_as_of
),

{# Each holder's quota in a period: the sum of its months' quotas. -#}
period_quotas as (
    select
        periods.period_type,
        periods.period_start,
        quota_months.breakdown,
        quota_months.breakdown_id,
        sum(quota_months.quota) as quota
    from quota_months
    inner join periods
        on
            quota_months.month_start >= periods.period_start
            and quota_months.month_start <= periods.period_end
    group by
        periods.period_type,
        periods.period_start,
        quota_months.breakdown,
        quota_months.breakdown_id
),

rep_bookings as (
    {{ crm_kpi.rollup_to_breakdowns('won_deals', {'rep': 'owner_user_id'}, {'bookings': 'sum(amount)', 'won_deals': 'count(*)'}) }}
),

{# Every closer employed in the period, and every rep with a won deal or a quota in it. -#}
rep_keys as (
    {%- for source in ['standing', 'rep_bookings', 'period_quotas'] %}
    select
        period_type,
        period_start,
        breakdown_id as user_id
    from {{ source }}
    where breakdown = 'rep'
    {%- if not loop.last %}
    union
    {%- endif %}
    {%- endfor %}
),

{# Each rep's own attainment, and the team they are in on the period's snapshot date (for the rep counts). -#}
rep_rows as (
    select
        rep_keys.period_type,
        rep_keys.period_start,
        rep_keys.user_id,
        coalesce(team_days.team_id, 'unassigned') as team_id,
        coalesce(team_days.manager_user_id, 'unassigned') as manager_user_id,
        coalesce(rep_bookings.bookings, 0) as bookings,
        coalesce(rep_bookings.won_deals, 0) as won_deals,
        rep_period_quotas.quota,
        case when rep_period_quotas.quota > 0 then 1 else 0 end as reps_with_quota,
        case when rep_period_quotas.quota > 0 and {{ crm_kpi.money('coalesce(rep_bookings.bookings, 0)') }} >= {{ crm_kpi.money('rep_period_quotas.quota') }} then 1 else 0 end as reps_at_or_above_quota
    from rep_keys
    inner join periods
        on
            rep_keys.period_type = periods.period_type
            and rep_keys.period_start = periods.period_start
    left join rep_bookings
        on
            rep_keys.period_type = rep_bookings.period_type
            and rep_keys.period_start = rep_bookings.period_start
            and rep_keys.user_id = rep_bookings.breakdown_id
    left join period_quotas as rep_period_quotas
        on
            rep_keys.period_type = rep_period_quotas.period_type
            and rep_keys.period_start = rep_period_quotas.period_start
            and rep_period_quotas.breakdown = 'rep'
            and rep_keys.user_id = rep_period_quotas.breakdown_id
    left join team_days
        on
            rep_keys.user_id = team_days.user_id
            and periods.snapshot_date = team_days.date_day
),

{# One stream of additive pieces, each tagged with the team and manager it counts for. -#}
pieces as (
    select
        period_type,
        period_start,
        team_id,
        manager_user_id,
        amount as bookings,
        1 as won_deals,
        null as quota,
        0 as reps_with_quota,
        0 as reps_at_or_above_quota
    from won_deals
    union all
    select
        period_quotas.period_type,
        period_quotas.period_start,
        period_quotas.breakdown_id as team_id,
        coalesce(teams.manager_user_id, 'unassigned') as manager_user_id,
        0 as bookings,
        0 as won_deals,
        period_quotas.quota,
        0 as reps_with_quota,
        0 as reps_at_or_above_quota
    from period_quotas
    left join teams
        on period_quotas.breakdown_id = teams.team_id
    where period_quotas.breakdown = 'team'
    union all
    select
        period_type,
        period_start,
        team_id,
        manager_user_id,
        0 as bookings,
        0 as won_deals,
        null as quota,
        reps_with_quota,
        reps_at_or_above_quota
    from rep_rows
    where reps_with_quota = 1
),

measured as (
    {{ crm_kpi.rollup_to_breakdowns('rep_rows', {'rep': 'user_id'}, measures) }}
    union all
    {{ crm_kpi.rollup_to_breakdowns('pieces', {'team': 'team_id', 'manager': 'manager_user_id', 'company': "'all'"}, measures) }}
),

{# The standing rows (company, teams, managers, employed closers), and the reps and unassigned rows as measured. -#}
breakdown_rows as (
    {{ crm_kpi.with_standing_rows('measured', 'standing', 'members', measures.keys() | list, ['company', 'team', 'manager', 'rep']) }}
),

final as (
    select
        period_type,
        period_start,
        period_end,
        breakdown,
        breakdown_id,
        breakdown_name,
        {{ crm_kpi.money('coalesce(bookings, 0)') }} as bookings,
        cast(coalesce(won_deals, 0) as {{ dbt.type_bigint() }}) as won_deals,
        {{ crm_kpi.money('quota') }} as quota,
        {{ crm_kpi.safe_divide(crm_kpi.money('coalesce(bookings, 0)'), crm_kpi.money('quota')) }} as quota_attainment,
        cast(coalesce(reps_with_quota, 0) as {{ dbt.type_bigint() }}) as reps_with_quota,
        cast(coalesce(reps_at_or_above_quota, 0) as {{ dbt.type_bigint() }}) as reps_at_or_above_quota,
        {{ crm_kpi.safe_divide('coalesce(reps_at_or_above_quota, 0)', 'reps_with_quota') }} as share_of_reps_at_or_above_quota
    from breakdown_rows
)

select * from final
