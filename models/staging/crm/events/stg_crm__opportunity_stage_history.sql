with

latest_rows as (
    {{ crm_kpi.dedupe_latest(
        ref('base_crm__opportunity_stage_history'),
        ['opportunity_id', 'changed_at'],
        where=crm_kpi.valid_rows_in_window(ref('base_crm__opportunity_stage_history'), ['opportunity_id', 'changed_at']),
        then_by=crm_kpi.event_row_order('opportunity_stage_history'),
    ) }}
),

final as (
    select
        opportunity_id,
        stage,
        amount,
        close_date,
        changed_at
    from latest_rows
)

select * from final
