with

valid_rows as (
    select * from {{ ref('base_crm__activities') }}
    where quarantine_reason is null
),

latest_rows as (
    {{ crm_kpi.dedupe_latest('valid_rows', ['activity_id']) }}
),

final as (
    select
        activity_id,
        activity_type,
        direction,
        user_id,
        lead_id,
        opportunity_id,
        account_id,
        occurred_at,
        outcome
    from latest_rows
)

select * from final
