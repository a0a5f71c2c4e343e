with

valid_rows as (
    select * from {{ ref('base_crm__competitors') }}
    where quarantine_reason is null
),

latest_rows as (
    {{ crm_kpi.dedupe_latest('valid_rows', ['competitor_id']) }}
),

final as (
    select
        competitor_id,
        competitor_name
    from latest_rows
)

select * from final
