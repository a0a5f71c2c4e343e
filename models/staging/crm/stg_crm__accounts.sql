with

latest_rows as (
    {{ crm_kpi.dedupe_latest(ref('base_crm__accounts'), ['account_id'], order_by='updated_at', where='quarantine_reason is null') }}
),

final as (
    select
        account_id,
        account_name,
        industry,
        employees,
        region,
        country,
        {{ crm_kpi.live_reference('owner_user_id', 'users') }} as owner_user_id,
        created_at,
        updated_at
    from latest_rows
    where not coalesce(is_deleted, false)
)

select * from final
