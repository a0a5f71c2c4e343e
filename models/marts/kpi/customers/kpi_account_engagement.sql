with

periods as (
    select * from {{ ref('int_periods_spined') }}
),

account_months as (
    select * from {{ ref('int_subscription_months') }}
),

activities as (
    select * from {{ ref('fct_activities') }}
),

opportunities as (
    select * from {{ ref('fct_opportunities') }}
),

reps as (
    select * from {{ ref('dim_reps') }}
),

quarters as (
    select
        period_start as quarter_start,
        period_end as quarter_end,
        {{ crm_kpi.month_of('snapshot_date') }} as snapshot_month
    from periods
    where period_type = 'quarter'
),

tenure_bands as (
    select
        '0-2 months' as tenure_band,
        0 as tenure_band_from_months
    union all
    select
        '3-5 months' as tenure_band,
        3 as tenure_band_from_months
    union all
    select
        '6-11 months' as tenure_band,
        6 as tenure_band_from_months
    union all
    select
        '12-23 months' as tenure_band,
        12 as tenure_band_from_months
    union all
    select
        '24+ months' as tenure_band,
        24 as tenure_band_from_months
    union all
    select
        'all' as tenure_band,
        cast(null as integer) as tenure_band_from_months
),

active_accounts as (
    select
        quarters.quarter_start,
        account_months.account_id,
        case
            when account_months.months_since_start < 3 then '0-2 months'
            when account_months.months_since_start < 6 then '3-5 months'
            when account_months.months_since_start < 12 then '6-11 months'
            when account_months.months_since_start < 24 then '12-23 months'
            else '24+ months'
        end as tenure_band
    from quarters
    inner join account_months
        on quarters.snapshot_month = account_months.month_start
    where account_months.is_active
),

rep_touches as (
    select
        coalesce(activities.account_id, opportunities.account_id) as account_id,
        cast({{ dbt.date_trunc('quarter', 'activities.occurred_at') }} as date) as quarter_start,
        count(*) as touches
    from activities
    inner join reps
        on activities.user_id = reps.user_id
    left join opportunities
        on activities.opportunity_id = opportunities.opportunity_id
    where reps.is_rep
    group by
        coalesce(activities.account_id, opportunities.account_id),
        cast({{ dbt.date_trunc('quarter', 'activities.occurred_at') }} as date)
),

account_touches as (
    select
        active_accounts.quarter_start,
        active_accounts.tenure_band,
        coalesce(rep_touches.touches, 0) as touches
    from active_accounts
    left join rep_touches
        on
            active_accounts.account_id = rep_touches.account_id
            and active_accounts.quarter_start = rep_touches.quarter_start
),

banded_touches as (
    select
        quarter_start,
        tenure_band,
        touches
    from account_touches
    union all
    select
        quarter_start,
        'all' as tenure_band,
        touches
    from account_touches
),

engagement as (
    select
        quarter_start,
        tenure_band,
        count(*) as active_accounts,
        sum(case when touches > 0 then 1 else 0 end) as touched_accounts,
        sum(touches) as touches
    from banded_touches
    group by
        quarter_start,
        tenure_band
),

counts as (
    select
        quarters.quarter_start,
        quarters.quarter_end,
        tenure_bands.tenure_band,
        tenure_bands.tenure_band_from_months,
        cast(coalesce(engagement.active_accounts, 0) as {{ dbt.type_bigint() }}) as active_accounts,
        cast(coalesce(engagement.touched_accounts, 0) as {{ dbt.type_bigint() }}) as touched_accounts,
        cast(coalesce(engagement.touches, 0) as {{ dbt.type_bigint() }}) as touches
    from quarters
    cross join tenure_bands
    left join engagement
        on
            quarters.quarter_start = engagement.quarter_start
            and tenure_bands.tenure_band = engagement.tenure_band
    where exists (select 1 from active_accounts)
),

final as (
    select
        quarter_start,
        quarter_end,
        tenure_band,
        tenure_band_from_months,
        active_accounts,
        touched_accounts,
        touches,
        {{ crm_kpi.safe_divide('touches', 'active_accounts') }} as touches_per_account,
        {{ crm_kpi.safe_divide('touched_accounts', 'active_accounts') }} as touched_account_rate
    from counts
)

select * from final
