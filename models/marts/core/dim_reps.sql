with

users as (
    select * from {{ ref('stg_crm__users') }}
),

memberships as (
    select * from {{ ref('stg_crm__team_memberships') }}
),

as_of_dates as (
    select * from {{ ref('int_as_of_dates') }}
),

current_memberships as (
    select
        memberships.user_id,
        memberships.team_id,
        row_number() over (
            partition by memberships.user_id
            order by memberships.started_on desc, memberships.team_id asc
        ) as membership_rank
    from memberships
    cross join as_of_dates
    where
        memberships.started_on <= as_of_dates.as_of_date
        and (memberships.ended_on >= as_of_dates.as_of_date or memberships.ended_on is null)
),

final as (
    select
        users.user_id,
        users.full_name,
        users.role,
        users.role in ('sdr', 'bdr', 'ae', 'am') as is_rep,
        users.role in ('ae', 'am') as is_closer,
        users.manager_user_id,
        current_memberships.team_id as current_team_id,
        users.region,
        users.country,
        users.hired_on,
        users.left_on
    from users
    left join current_memberships
        on
            users.user_id = current_memberships.user_id
            and current_memberships.membership_rank = 1
)

select * from final
