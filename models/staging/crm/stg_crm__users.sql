with

latest_rows as (
    {{ crm_kpi.dedupe_latest(ref('base_crm__users'), ['user_id'], order_by='updated_at', where='quarantine_reason is null') }}
),

final as (
    select
        user_id,
        full_name,
        email,
        role,
        {{ crm_kpi.live_reference('manager_user_id', 'users') }} as manager_user_id,
        region,
        country,
        hired_on,
        left_on,
        updated_at
    from latest_rows
    where not coalesce(is_deleted, false)
)

select * from final
