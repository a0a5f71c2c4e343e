{#-
    One row per quota holder (a rep, or a team) and month: the quota, each quota row rounded to the
    cent once as it is read, so that every quota (rep, team, month, quarter, company) is a sum of cents
    and the same over months and quarters. A team's quota for a month is its own quota row(s) when the
    export has one, else the sum of its members' quotas, a rep counting towards the team they are in
    on the month's snapshot date ('unassigned' when in none).
-#}
with

quotas as (
    select * from {{ ref('stg_crm__quotas') }}
),

team_days as (
    select * from {{ ref('int_team_memberships_daily') }}
),

periods as (
    select * from {{ ref('int_periods_spined') }}
),

months as (
    select
        period_start as month_start,
        snapshot_date
    from periods
    where period_type = 'month'
),

quota_rows as (
    select
        user_id,
        team_id,
        {{ crm_kpi.month_of('month_start') }} as month_start,
        {{ crm_kpi.money('amount') }} as amount
    from quotas
),

rep_month_quotas as (
    select
        user_id,
        month_start,
        sum(amount) as quota
    from quota_rows
    where user_id is not null
    group by
        user_id,
        month_start
),

team_own_month_quotas as (
    select
        team_id,
        month_start,
        sum(amount) as quota
    from quota_rows
    where team_id is not null and user_id is null
    group by
        team_id,
        month_start
),

member_month_quotas as (
    select
        coalesce(team_days.team_id, 'unassigned') as team_id,
        rep_month_quotas.month_start,
        sum(rep_month_quotas.quota) as quota
    from rep_month_quotas
    inner join months
        on rep_month_quotas.month_start = months.month_start
    left join team_days
        on
            rep_month_quotas.user_id = team_days.user_id
            and months.snapshot_date = team_days.date_day
    group by
        coalesce(team_days.team_id, 'unassigned'),
        rep_month_quotas.month_start
),

team_months as (
    select
        team_id,
        month_start
    from team_own_month_quotas
    union
    select
        team_id,
        month_start
    from member_month_quotas
),

team_month_quotas as (
    select
        team_months.team_id,
        team_months.month_start,
        coalesce(team_own_month_quotas.quota, member_month_quotas.quota) as quota
    from team_months
    left join team_own_month_quotas
        on
            team_months.team_id = team_own_month_quotas.team_id
            and team_months.month_start = team_own_month_quotas.month_start
    left join member_month_quotas
        on
            team_months.team_id = member_month_quotas.team_id
            and team_months.month_start = member_month_quotas.month_start
),

final as (
    select
        'rep' as breakdown,
        user_id as breakdown_id,
        month_start,
        {{ crm_kpi.money('quota') }} as quota
    from rep_month_quotas
    union all
    select
        'team' as breakdown,
        team_id as breakdown_id,
        month_start,
        {{ crm_kpi.money('quota') }} as quota
    from team_month_quotas
)

select * from final
