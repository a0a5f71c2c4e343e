{#-
    Reconciliation (T1): per quarter, the respondents of kpi_employee_nps summed over the teams equal the
    distinct users who answered in the quarter (on or before the as-of date) while a member of a team,
    from staging.
-#}
with

quarters as (
    select * from {{ ref('int_periods_spined') }}
    where period_type = 'quarter'
),

staging_respondents as (
    select
        quarters.period_start as quarter_start,
        count(distinct responses.user_id) as respondents
    from {{ ref('stg_crm__employee_survey_responses') }} as responses
    inner join quarters
        on
            cast(responses.responded_at as date) >= quarters.period_start
            and cast(responses.responded_at as date) <= quarters.snapshot_date
    where
        exists (
            select 1
            from {{ ref('stg_crm__team_memberships') }} as memberships
            where
                memberships.user_id = responses.user_id
                and memberships.started_on <= cast(responses.responded_at as date)
                and (memberships.ended_on >= cast(responses.responded_at as date) or memberships.ended_on is null)
        )
    group by quarters.period_start
),

mart_respondents as (
    select
        quarter_start,
        sum(respondents) as respondents
    from {{ ref('kpi_employee_nps') }}
    group by quarter_start
)

select
    coalesce(mart_respondents.quarter_start, staging_respondents.quarter_start) as quarter_start,
    staging_respondents.respondents as staging_respondents,
    mart_respondents.respondents as mart_respondents
from mart_respondents
full outer join staging_respondents
    on mart_respondents.quarter_start = staging_respondents.quarter_start
where coalesce(mart_respondents.respondents, 0) <> coalesce(staging_respondents.respondents, 0)
