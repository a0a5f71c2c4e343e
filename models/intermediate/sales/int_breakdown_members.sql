{#-
    The members of the breakdowns the sales marts share, with their display names (the oracle's
    breakdown_names): the company, every user as a rep, every team, every team manager, the
    'unassigned' team and manager (deals credited to no team), every stage, and every competitor and
    'none' (a deal without one).
-#}
with

users as (
    select * from {{ ref('stg_crm__users') }}
),

teams as (
    select * from {{ ref('stg_crm__teams') }}
),

stages as (
    select * from {{ ref('stg_crm__stages') }}
),

competitors as (
    select * from {{ ref('stg_crm__competitors') }}
),

final as (
    select
        'company' as breakdown,
        'all' as breakdown_id,
        'Company' as breakdown_name
    union all
    select
        'rep' as breakdown,
        user_id as breakdown_id,
        full_name as breakdown_name
    from users
    union all
    select
        'team' as breakdown,
        team_id as breakdown_id,
        team_name as breakdown_name
    from teams
    union all
    select distinct
        'manager' as breakdown,
        users.user_id as breakdown_id,
        users.full_name as breakdown_name
    from users
    inner join teams
        on users.user_id = teams.manager_user_id
    union all
    select
        'team' as breakdown,
        'unassigned' as breakdown_id,
        'Unassigned' as breakdown_name
    union all
    select
        'manager' as breakdown,
        'unassigned' as breakdown_id,
        'Unassigned' as breakdown_name
    union all
    select
        'stage' as breakdown,
        stage as breakdown_id,
        stage as breakdown_name
    from stages
    union all
    select
        'competitor' as breakdown,
        competitor_id as breakdown_id,
        competitor_name as breakdown_name
    from competitors
    union all
    select
        'competitor' as breakdown,
        'none' as breakdown_id,
        'No competitor' as breakdown_name
)

select * from final
