with

answers as (
    select * from {{ ref('int_team_survey_answers') }}
),

teams as (
    select * from {{ ref('dim_teams') }}
),

periods as (
    select * from {{ ref('int_periods_spined') }}
),

quarters as (
    select
        period_start as quarter_start,
        period_end as quarter_end,
        snapshot_date
    from periods
    where period_type = 'quarter'
),

quarter_answers as (
    select
        quarters.quarter_start,
        answers.team_id,
        answers.score,
        row_number() over (
            partition by quarters.quarter_start, answers.user_id
            order by answers.responded_at desc, answers.response_id desc
        ) as answer_rank
    from answers
    inner join quarters
        on
            cast(answers.responded_at as date) >= quarters.quarter_start
            and cast(answers.responded_at as date) <= quarters.snapshot_date
    where answers.response_id is not null
),

team_scores as (
    select
        quarter_start,
        team_id,
        count(*) as respondents,
        sum(case when score >= 9 then 1 else 0 end) as promoters,
        sum(case when score between 7 and 8 then 1 else 0 end) as passives,
        sum(case when score <= 6 then 1 else 0 end) as detractors
    from quarter_answers
    where answer_rank = 1
    group by
        quarter_start,
        team_id
),

member_teams as (
    select distinct team_id from answers
),

counts as (
    select
        quarters.quarter_start,
        quarters.quarter_end,
        member_teams.team_id,
        teams.team_name,
        cast(coalesce(team_scores.respondents, 0) as {{ dbt.type_bigint() }}) as respondents,
        coalesce(team_scores.respondents, 0) < {{ crm_kpi.checked_var('enps_min_responses') }} as is_suppressed,
        team_scores.promoters,
        team_scores.passives,
        team_scores.detractors
    from quarters
    cross join member_teams
    left join teams
        on member_teams.team_id = teams.team_id
    left join team_scores
        on
            quarters.quarter_start = team_scores.quarter_start
            and member_teams.team_id = team_scores.team_id
    where exists (select 1 from quarter_answers)
),

final as (
    select
        quarter_start,
        quarter_end,
        team_id,
        team_name,
        respondents,
        is_suppressed,
        cast(case when not is_suppressed then promoters end as {{ dbt.type_bigint() }}) as promoters,
        cast(case when not is_suppressed then passives end as {{ dbt.type_bigint() }}) as passives,
        cast(case when not is_suppressed then detractors end as {{ dbt.type_bigint() }}) as detractors,
        case
            when not is_suppressed then {{ crm_kpi.safe_divide('100 * (promoters - detractors)', 'respondents') }}
        end as enps
    from counts
)

select * from final
