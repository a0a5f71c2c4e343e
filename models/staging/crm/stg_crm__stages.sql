with

valid_rows as (
    select * from {{ ref('base_crm__stages') }}
    where quarantine_reason is null
),

latest_rows as (
    {{ crm_kpi.dedupe_latest('valid_rows', ['stage']) }}
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
