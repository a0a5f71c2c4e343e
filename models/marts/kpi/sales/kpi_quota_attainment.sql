with

opportunities as (
    select * from {{ ref('int_opportunities_credited') }}
),

{# Each quota row to the cent, as it is read: a period's quota is a sum of cents, the same over months and quarters. -#}
quotas as (
    select
        quota_id,
        user_id,
        team_id,
        month_start,
        {{ crm_kpi.money('amount') }} as amount
    from {{ ref('stg_crm__quotas') }}
),

team_days as (
    select * from {{ ref('int_team_memberships_daily') }}
),

all_periods as (
    select * from {{ ref('int_periods_spined') }}
),

users as (
    select * from {{ ref('dim_reps') }}
),

teams as (
    select * from {{ ref('dim_teams') }}
),

periods as (
    select * from all_periods
    where period_type in ('month', 'quarter')
),

months as (
    select
        period_start as month_start,
        snapshot_date
    from all_periods
    where period_type = 'month'
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

{# A quota row's amount is rounded to the cent once; every quota (rep, team, month, quarter, company) sums those. -#}
rep_month_quotas as (
    select
        user_id,
        {{ crm_kpi.month_of('month_start') }} as month_start,
        sum({{ crm_kpi.money('amount') }}) as quota
    from quotas
    where user_id is not null
    group by
        user_id,
        {{ crm_kpi.month_of('month_start') }}
),

team_own_month_quotas as (
    select
        team_id,
        {{ crm_kpi.month_of('month_start') }} as month_start,
        sum({{ crm_kpi.money('amount') }}) as quota
    from quotas
    where team_id is not null and user_id is null
    group by
        team_id,
        {{ crm_kpi.month_of('month_start') }}
),

{# A rep's monthly quota counts towards the team they are in on the month's snapshot date. -#}
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

{# A team's quota for a month: its own quota row(s) when the export has one, else its members' sum. -#}
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

rep_period_quotas as (
    select
        periods.period_type,
        periods.period_start,
        rep_month_quotas.user_id,
        sum(rep_month_quotas.quota) as quota
    from rep_month_quotas
    inner join periods
        on
            rep_month_quotas.month_start >= periods.period_start
            and rep_month_quotas.month_start <= periods.period_end
    group by
        periods.period_type,
        periods.period_start,
        rep_month_quotas.user_id
),

team_period_quotas as (
    select
        periods.period_type,
        periods.period_start,
        team_month_quotas.team_id,
        coalesce(teams.manager_user_id, 'unassigned') as manager_user_id,
        sum(team_month_quotas.quota) as quota
    from team_month_quotas
    inner join periods
        on
            team_month_quotas.month_start >= periods.period_start
            and team_month_quotas.month_start <= periods.period_end
    left join teams
        on team_month_quotas.team_id = teams.team_id
    group by
        periods.period_type,
        periods.period_start,
        team_month_quotas.team_id,
        coalesce(teams.manager_user_id, 'unassigned')
),

rep_bookings as (
    select
        period_type,
        period_start,
        owner_user_id as user_id,
        sum(amount) as bookings,
        count(*) as won_deals
    from won_deals
    group by
        period_type,
        period_start,
        owner_user_id
),

rep_keys as (
    select
        periods.period_type,
        periods.period_start,
        users.user_id
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
        user_id
    from rep_bookings
    union
    select
        period_type,
        period_start,
        user_id
    from rep_period_quotas
),

{# Each rep's own attainment, and the team they are in on the period's snapshot date (for the rep counts). -#}
rep_rows as (
    select
        rep_keys.period_type,
        rep_keys.period_start,
        rep_keys.user_id,
        coalesce(team_days.team_id, 'unassigned') as team_id,
        coalesce(teams.manager_user_id, 'unassigned') as manager_user_id,
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
            and rep_keys.user_id = rep_bookings.user_id
    left join rep_period_quotas
        on
            rep_keys.period_type = rep_period_quotas.period_type
            and rep_keys.period_start = rep_period_quotas.period_start
            and rep_keys.user_id = rep_period_quotas.user_id
    left join team_days
        on
            rep_keys.user_id = team_days.user_id
            and periods.snapshot_date = team_days.date_day
    left join teams
        on team_days.team_id = teams.team_id
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
        period_type,
        period_start,
        team_id,
        manager_user_id,
        0 as bookings,
        0 as won_deals,
        quota,
        0 as reps_with_quota,
        0 as reps_at_or_above_quota
    from team_period_quotas
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
    select
        period_type,
        period_start,
        'rep' as breakdown,
        user_id as breakdown_id,
        bookings,
        won_deals,
        quota,
        reps_with_quota,
        reps_at_or_above_quota
    from rep_rows
    {%- for breakdown, key in [('team', 'team_id'), ('manager', 'manager_user_id'), ('company', "'all'")] %}
    union all
    select
        period_type,
        period_start,
        '{{ breakdown }}' as breakdown,
        {{ key }} as breakdown_id,
        sum(bookings) as bookings,
        sum(won_deals) as won_deals,
        sum(quota) as quota,
        sum(reps_with_quota) as reps_with_quota,
        sum(reps_at_or_above_quota) as reps_at_or_above_quota
    from pieces
    group by
        period_type,
        period_start{% if key != "'all'" %},
        {{ key }}{% endif %}
    {%- endfor %}
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
        'team' as breakdown,
        'unassigned' as breakdown_id,
        'Unassigned' as breakdown_name
    union all
    select
        'manager' as breakdown,
        'unassigned' as breakdown_id,
        'Unassigned' as breakdown_name
),

{# Every team and manager in every period (zero rows included); reps and the unassigned rows as measured. -#}
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
        period_type,
        period_start,
        breakdown,
        breakdown_id
    from measured
),

final as (
    select
        spine.period_type,
        spine.period_start,
        periods.period_end,
        spine.breakdown,
        spine.breakdown_id,
        names.breakdown_name,
        {{ crm_kpi.money('coalesce(measured.bookings, 0)') }} as bookings,
        cast(coalesce(measured.won_deals, 0) as {{ dbt.type_bigint() }}) as won_deals,
        {{ crm_kpi.money('measured.quota') }} as quota,
        {{ crm_kpi.safe_divide(crm_kpi.money('coalesce(measured.bookings, 0)'), crm_kpi.money('measured.quota')) }} as quota_attainment,
        cast(coalesce(measured.reps_with_quota, 0) as {{ dbt.type_bigint() }}) as reps_with_quota,
        cast(coalesce(measured.reps_at_or_above_quota, 0) as {{ dbt.type_bigint() }}) as reps_at_or_above_quota,
        {{ crm_kpi.safe_divide('coalesce(measured.reps_at_or_above_quota, 0)', 'measured.reps_with_quota') }} as share_of_reps_at_or_above_quota
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
)

select * from final
