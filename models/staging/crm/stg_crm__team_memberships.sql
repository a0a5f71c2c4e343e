with

valid_rows as (
    select * from {{ ref('base_crm__team_memberships') }}
    where quarantine_reason is null
),

latest_rows as (
    {{ crm_kpi.dedupe_latest('valid_rows', ['user_id', 'team_id', 'started_on']) }}
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
