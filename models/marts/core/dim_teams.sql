with

teams as (
    select * from {{ ref('stg_crm__teams') }}
),

final as (
    select
        team_id,
        team_name,
        manager_user_id,
        region
    from teams
)

select * from final
