with

latest_rows as (
    {{ crm_kpi.dedupe_latest(ref('base_crm__opportunities'), ['opportunity_id'], order_by='updated_at', where='quarantine_reason is null') }}
),

final as (
    select
        opportunity_id,
        account_id,
        owner_user_id,
        {{ crm_kpi.live_reference('source_lead_id', 'leads') }} as source_lead_id,
        opportunity_type,
        created_at,
        close_date,
        stage,
        amount,
        original_amount,
        original_currency,
        lost_reason,
        {{ crm_kpi.live_reference('competitor_id', 'competitors') }} as competitor_id,
        updated_at,
        exchange_rate
    from latest_rows
    where not coalesce(is_deleted, false)
)

select * from final
