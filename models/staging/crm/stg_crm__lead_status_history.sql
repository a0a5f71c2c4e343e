with

valid_rows as (
    select * from {{ ref('base_crm__lead_status_history') }}
    where quarantine_reason is null
),

latest_rows as (
    {{ crm_kpi.dedupe_latest('valid_rows', ['lead_id', 'status', 'changed_at']) }}
),

final as (
    select
        lead_id,
        status,
        changed_at
    from latest_rows
)

select * from final
