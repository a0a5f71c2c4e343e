with

valid_rows as (
    select * from {{ ref('base_crm__campaign_touches') }}
    where quarantine_reason is null
),

latest_rows as (
    {{ crm_kpi.dedupe_latest('valid_rows', ['touch_id']) }}
),

final as (
    select
        touch_id,
        campaign_id,
        lead_id,
        touched_at,
        touch_type
    from latest_rows
)

select * from final
