{#-
    The employee survey answers by team: one row per answer, in the team the respondent belonged to on
    the day of the answer (the membership that covers the day; two at once, the one started last, ties by
    team_id, as every team credit reads it), and one row without an answer for every team with a
    membership, so that a team nobody answered for still has its rows (its eNPS null, not absent). An
    answer of someone in no team that day counts for no team.
-#}
with

responses as (
    select * from {{ ref('stg_crm__employee_survey_responses') }}
),

memberships as (
    select * from {{ ref('stg_crm__team_memberships') }}
),

team_answers as (
    select
        responses.response_id,
        responses.user_id,
        responses.responded_at,
        responses.score,
        memberships.team_id,
        row_number() over (
            partition by responses.response_id
            order by memberships.started_on desc, memberships.team_id asc
        ) as membership_rank
    from responses
    inner join memberships
        on
            responses.user_id = memberships.user_id
            and memberships.started_on <= cast(responses.responded_at as date)
            and (memberships.ended_on >= cast(responses.responded_at as date) or memberships.ended_on is null)
),

final as (
    select
        team_id,
        response_id,
        user_id,
        responded_at,
        score
    from team_answers
    where membership_rank = 1
    union all
    select distinct
        team_id,
        cast(null as {{ dbt.type_string() }}) as response_id,
        cast(null as {{ dbt.type_string() }}) as user_id,
        cast(null as {{ dbt.type_timestamp() }}) as responded_at,
        cast(null as {{ dbt.type_int() }}) as score
    from memberships
)

select * from final
