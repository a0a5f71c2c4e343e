{#-
    Rollup rep -> team (S4): in every month and quarter, a team's bookings in kpi_quota_attainment are
    the sum, over its reps, of the bookings each rep closed while in the team (the owner's team on the
    close date, from staging's team memberships), and each rep's bookings are the sum of their parts over
    the teams they sold for (half a cent of rounding per part at most).
-#}
with

quota as (
    select * from {{ ref('kpi_quota_attainment') }}
),

memberships as (
    select * from {{ ref('stg_crm__team_memberships') }}
),

won_deals as (
    select * from {{ ref('int_opportunities_classified') }}
    where is_won_by_as_of
),

{# The owner's team on the close date: the covering membership started last (ties by team_id). -#}
deal_teams as (
    select
        won_deals.opportunity_id,
        won_deals.owner_user_id,
        won_deals.close_date,
        won_deals.amount,
        memberships.team_id,
        row_number() over (
            partition by won_deals.opportunity_id
            order by memberships.started_on desc, memberships.team_id asc
        ) as membership_rank
    from won_deals
    left join memberships
        on
            won_deals.owner_user_id = memberships.user_id
            and won_deals.close_date >= memberships.started_on
            and (won_deals.close_date <= memberships.ended_on or memberships.ended_on is null)
),

quota_periods as (
    select distinct
        period_type,
        period_start,
        period_end
    from quota
),

rep_team_parts as (
    select
        periods.period_type,
        periods.period_start,
        deal_teams.owner_user_id,
        coalesce(deal_teams.team_id, 'unassigned') as team_id,
        sum(deal_teams.amount) as bookings
    from deal_teams
    inner join quota_periods as periods
        on
            deal_teams.close_date >= periods.period_start
            and deal_teams.close_date <= periods.period_end
    where deal_teams.membership_rank = 1
    group by
        periods.period_type,
        periods.period_start,
        deal_teams.owner_user_id,
        coalesce(deal_teams.team_id, 'unassigned')
),

by_team as (
    select
        period_type,
        period_start,
        team_id,
        sum(bookings) as bookings,
        count(*) as parts
    from rep_team_parts
    group by
        period_type,
        period_start,
        team_id
),

by_rep as (
    select
        period_type,
        period_start,
        owner_user_id,
        sum(bookings) as bookings,
        count(*) as parts
    from rep_team_parts
    group by
        period_type,
        period_start,
        owner_user_id
)

{%- for level, parts, key, parts_name in [('team', 'by_team', 'team_id', 'sum_of_reps'), ('rep', 'by_rep', 'owner_user_id', 'sum_of_parts')] %}
select
    '{{ level }}' as breakdown_level,
    quota.period_type,
    quota.period_start,
    quota.breakdown_id,
    quota.bookings,
    {{ parts }}.bookings as {{ parts_name }}
from quota
left join {{ parts }}
    on
        quota.period_type = {{ parts }}.period_type
        and quota.period_start = {{ parts }}.period_start
        and quota.breakdown_id = {{ parts }}.{{ key }}
where
    quota.breakdown = '{{ level }}'
    and abs(quota.bookings - coalesce({{ parts }}.bookings, 0)) > 0.005 * (coalesce({{ parts }}.parts, 0) + 1) + 1e-9
{%- if not loop.last %}
union all
{%- endif %}
{%- endfor %}
