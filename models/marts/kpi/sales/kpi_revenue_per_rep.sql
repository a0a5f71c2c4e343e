with

users as (
    select * from {{ ref('dim_reps') }}
),

opportunities as (
    select * from {{ ref('int_opportunities_classified') }}
),

quotas as (
    select * from {{ ref('int_quota_months') }}
),

months as (
    select * from {{ ref('int_months_spined') }}
),

closed_deals as (
    select
        owner_user_id as user_id,
        close_month as month_start,
        sum(case when is_won_by_as_of then amount else 0 end) as bookings,
        sum(case when is_won_by_as_of then 1 else 0 end) as won_deals,
        sum(case when is_lost_by_as_of then 1 else 0 end) as lost_deals,
        sum(case when is_lost_by_as_of then amount else 0 end) as lost_amount
    from opportunities
    where is_closed_by_as_of
    group by
        owner_user_id,
        close_month
),

{# A month's quota: the rep's quota rows, each rounded to the cent once (int_quota_months). -#}
monthly_quotas as (
    select
        breakdown_id as user_id,
        month_start,
        quota
    from quotas
    where breakdown = 'rep'
),

reps as (
    select
        users.user_id,
        users.full_name,
        users.role,
        users.hired_on,
        users.left_on
    from users
    where
        users.is_closer
        or users.user_id in (select closed_deals.user_id from closed_deals)
),

employed_months as (
    select
        reps.user_id,
        months.month_start
    from reps
    inner join months
        on
            months.month_start >= {{ crm_kpi.month_of('reps.hired_on') }}
            and (reps.left_on >= months.month_start or reps.left_on is null)
),

{# The reps, and the users with a quota row (a month with a quota is a row even after the user left). -#}
rep_users as (
    select
        user_id,
        full_name,
        role
    from reps
    union
    select
        users.user_id,
        users.full_name,
        users.role
    from users
    inner join monthly_quotas
        on users.user_id = monthly_quotas.user_id
),

rep_months as (
    select
        user_id,
        month_start
    from employed_months
    union
    select
        user_id,
        month_start
    from closed_deals
    union
    select
        monthly_quotas.user_id,
        monthly_quotas.month_start
    from monthly_quotas
    inner join months
        on monthly_quotas.month_start = months.month_start
),

rep_month_measures as (
    select
        rep_months.user_id,
        rep_months.month_start,
        rep_users.full_name as rep_name,
        rep_users.role,
        coalesce(closed_deals.bookings, 0) as bookings,
        coalesce(closed_deals.won_deals, 0) as won_deals,
        coalesce(closed_deals.lost_deals, 0) as lost_deals,
        coalesce(closed_deals.lost_amount, 0) as lost_amount,
        monthly_quotas.quota
    from rep_months
    inner join rep_users
        on rep_months.user_id = rep_users.user_id
    left join closed_deals
        on
            rep_months.user_id = closed_deals.user_id
            and rep_months.month_start = closed_deals.month_start
    left join monthly_quotas
        on
            rep_months.user_id = monthly_quotas.user_id
            and rep_months.month_start = monthly_quotas.month_start
),

final as (
    select
        user_id,
        month_start as month,
        rep_name,
        role,
        {{ crm_kpi.money('bookings') }} as bookings,
        cast(won_deals as {{ dbt.type_bigint() }}) as won_deals,
        cast(lost_deals as {{ dbt.type_bigint() }}) as lost_deals,
        {{ crm_kpi.money('lost_amount') }} as lost_amount,
        {{ crm_kpi.safe_divide(crm_kpi.money('bookings'), 'won_deals') }} as average_deal_size,
        {{ crm_kpi.safe_divide('won_deals', 'won_deals + lost_deals') }} as win_rate,
        {{ crm_kpi.safe_divide(crm_kpi.money('bookings'), crm_kpi.money('bookings') ~ ' + ' ~ crm_kpi.money('lost_amount')) }} as amount_win_rate,
        {{ crm_kpi.money('quota') }} as quota,
        {{ crm_kpi.safe_divide(crm_kpi.money('bookings'), crm_kpi.money('quota')) }} as quota_attainment
    from rep_month_measures
)

select * from final
