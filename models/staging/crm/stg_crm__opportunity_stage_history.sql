with

valid_rows as (
    select * from {{ ref('base_crm__opportunity_stage_history') }}
    where quarantine_reason is null
),

latest_rows as (
    {{ crm_kpi.dedupe_latest('valid_rows', ['opportunity_id', 'changed_at']) }}
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
