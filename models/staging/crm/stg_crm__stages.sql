with

latest_rows as (
    {{ crm_kpi.dedupe_latest(ref('base_crm__stages'), ['stage'], where='quarantine_reason is null') }}
),

final as (
    select
        stage,
        sort_order,
        probability,
        is_closed,
        is_won
    from latest_rows
)

select * from final
