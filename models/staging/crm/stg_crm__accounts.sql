with

valid_rows as (
    select * from {{ ref('base_crm__accounts') }}
    where quarantine_reason is null
),

latest_rows as (
    {{ crm_kpi.dedupe_latest('valid_rows', ['account_id'], order_by='updated_at') }}
),

final as (
    select
        account_id,
        account_name,
        industry,
        employees,
        region,
        country,
        owner_user_id,
        created_at,
        updated_at
    from latest_rows
    where not coalesce(is_deleted, false)
)

select * from final
