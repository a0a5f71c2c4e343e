{#-
    Reconciliation (C8): per quarter, the active accounts of kpi_account_engagement (all bands) equal the
    staged accounts with a subscription period covering the quarter's snapshot, and the tenure bands sum
    to the all row (accounts, touched accounts, touches).
-#}
with

quarters as (
    select * from {{ ref('int_periods_spined') }}
    where period_type = 'quarter'
),

staging_active as (
    select
        quarters.period_start as quarter_start,
        count(distinct subscriptions.account_id) as active_accounts
    from {{ ref('stg_crm__subscriptions') }} as subscriptions
    inner join {{ ref('stg_crm__accounts') }} as staged_accounts
        on subscriptions.account_id = staged_accounts.account_id
    inner join quarters
        on
            subscriptions.period_start <= quarters.snapshot_date
            and (subscriptions.period_end > quarters.snapshot_date or subscriptions.period_end is null)
    group by quarters.period_start
),

mart_bands as (
    select
        quarter_start,
        sum(case when tenure_band = 'all' then active_accounts else 0 end) as all_accounts,
        sum(case when tenure_band <> 'all' then active_accounts else 0 end) as band_accounts,
        sum(case when tenure_band = 'all' then touched_accounts else 0 end) as all_touched,
        sum(case when tenure_band <> 'all' then touched_accounts else 0 end) as band_touched,
        sum(case when tenure_band = 'all' then touches else 0 end) as all_touches,
        sum(case when tenure_band <> 'all' then touches else 0 end) as band_touches
    from {{ ref('kpi_account_engagement') }}
    group by quarter_start
)

select
    coalesce(mart_bands.quarter_start, staging_active.quarter_start) as quarter_start,
    staging_active.active_accounts,
    mart_bands.all_accounts,
    mart_bands.band_accounts
from mart_bands
full outer join staging_active
    on mart_bands.quarter_start = staging_active.quarter_start
where
    coalesce(mart_bands.all_accounts, 0) <> coalesce(staging_active.active_accounts, 0)
    or mart_bands.band_accounts <> mart_bands.all_accounts
    or mart_bands.band_touched <> mart_bands.all_touched
    or mart_bands.band_touches <> mart_bands.all_touches
