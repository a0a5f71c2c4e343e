with

latest_rows as (
    {{ crm_kpi.dedupe_latest(ref('base_crm__team_memberships'), ['user_id', 'team_id', 'started_on'], where='quarantine_reason is null') }}
),

final as (
    select
        user_id,
        team_id,
        started_on,
        ended_on
    from latest_rows
)

select * from final
