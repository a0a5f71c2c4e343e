with

latest_rows as (
    {{ crm_kpi.dedupe_latest(
        ref('base_crm__lead_status_history'),
        ['lead_id', 'status', 'changed_at'],
        where=crm_kpi.valid_rows_in_window(ref('base_crm__lead_status_history'), ['lead_id', 'status', 'changed_at']),
        then_by=crm_kpi.event_row_order('lead_status_history'),
    ) }}
),

final as (
    select
        lead_id,
        status,
        changed_at
    from latest_rows
)

select * from final
