with

latest_rows as (
    {{ crm_kpi.dedupe_latest(ref('base_crm__quotas'), ['quota_id'], where='quarantine_reason is null') }}
),

final as (
    select
        quota_id,
        {{ crm_kpi.live_reference('user_id', 'users') }} as user_id,
        {{ crm_kpi.live_reference('team_id', 'teams') }} as team_id,
        month_start,
        amount,
        original_amount,
        original_currency,
        exchange_rate
    from latest_rows
)

select * from final
