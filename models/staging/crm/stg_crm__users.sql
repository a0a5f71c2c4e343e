with

valid_rows as (
    select * from {{ ref('base_crm__users') }}
    where quarantine_reason is null
),

latest_rows as (
    {{ crm_kpi.dedupe_latest('valid_rows', ['user_id'], order_by='updated_at') }}
),

final as (
    select
        user_id,
        full_name,
        email,
        role,
        manager_user_id,
        region,
        country,
        hired_on,
        left_on,
        updated_at
    from latest_rows
    where not coalesce(is_deleted, false)
)

select * from final
