with

valid_rows as (
    select * from {{ ref('base_crm__quotas') }}
    where quarantine_reason is null
),

latest_rows as (
    {{ crm_kpi.dedupe_latest('valid_rows', ['quota_id']) }}
),

final as (
    select
        quota_id,
        user_id,
        team_id,
        month_start,
        amount,
        original_amount,
        original_currency,
        exchange_rate
    from latest_rows
)

select * from final
