with

latest_rows as (
    {{ crm_kpi.dedupe_latest(ref('base_crm__teams'), ['team_id'], order_by='updated_at', where='quarantine_reason is null') }}
),

final as (
    select
        team_id,
        team_name,
        {{ crm_kpi.live_reference('manager_user_id', 'users') }} as manager_user_id,
        region,
        updated_at
    from latest_rows
)

select * from final
