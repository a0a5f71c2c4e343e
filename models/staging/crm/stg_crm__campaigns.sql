with

latest_rows as (
    {{ crm_kpi.dedupe_latest(ref('base_crm__campaigns'), ['campaign_id'], order_by='updated_at', where='quarantine_reason is null') }}
),

final as (
    select
        campaign_id,
        campaign_name,
        channel,
        region,
        started_on,
        ended_on,
        budget,
        original_budget,
        original_currency,
        updated_at,
        exchange_rate
    from latest_rows
    where not coalesce(is_deleted, false)
)

select * from final
