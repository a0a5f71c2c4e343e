with

valid_rows as (
    select * from {{ ref('base_crm__teams') }}
    where quarantine_reason is null
),

latest_rows as (
    {{ crm_kpi.dedupe_latest('valid_rows', ['team_id'], order_by='updated_at') }}
),

final as (
    select
        team_id,
        team_name,
        manager_user_id,
        region,
        updated_at
    from latest_rows
)

select * from final
