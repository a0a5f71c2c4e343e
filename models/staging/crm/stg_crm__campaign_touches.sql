with

latest_rows as (
    {{ crm_kpi.dedupe_latest(ref('base_crm__campaign_touches'), ['touch_id'], where='quarantine_reason is null') }}
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
