with

latest_rows as (
    {{ crm_kpi.dedupe_latest(ref('base_crm__competitors'), ['competitor_id'], where='quarantine_reason is null') }}
),

final as (
    select
        competitor_id,
        competitor_name
    from latest_rows
)

select * from final
