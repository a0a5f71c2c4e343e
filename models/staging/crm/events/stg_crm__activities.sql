with

latest_rows as (
    {{ crm_kpi.dedupe_latest(
        ref('base_crm__activities'),
        ['activity_id'],
        where=crm_kpi.valid_rows_in_window(ref('base_crm__activities'), ['activity_id']),
        then_by=crm_kpi.event_row_order('activities'),
    ) }}
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
