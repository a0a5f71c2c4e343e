with

latest_rows as (
    {{ crm_kpi.dedupe_latest(
        ref('base_crm__campaign_touches'),
        ['touch_id'],
        where=crm_kpi.valid_rows_in_window(ref('base_crm__campaign_touches'), ['touch_id']),
        then_by=crm_kpi.event_row_order('campaign_touches'),
    ) }}
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
