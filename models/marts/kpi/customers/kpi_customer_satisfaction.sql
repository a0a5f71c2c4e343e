with

answers as (
    select * from {{ ref('int_survey_answers_counted') }}
),

accounts as (
    select
        account_id,
        region
    from {{ ref('dim_accounts') }}
),

periods as (
    select * from {{ ref('int_periods_spined') }}
),

survey_periods as (
    select
        period_type,
        period_start,
        period_end,
        snapshot_date
    from periods
    where period_type in ('month', 'quarter')
),

{# An answer counts where its account is staged (an answer of an unknown account is ignored). -#}
period_responses as (
    select
        answers.survey_type,
        answers.period_type,
        answers.period_start,
        accounts.region,
        answers.product_id,
        answers.score,
        answers.is_account_answer,
        answers.is_product_answer
    from answers
    inner join accounts
        on answers.account_id = accounts.account_id
),

counted_answers as (
    select
        survey_type,
        period_type,
        period_start,
        'total' as breakdown,
        'all' as segment,
        score
    from period_responses
    where is_account_answer
    union all
    select
        survey_type,
        period_type,
        period_start,
        'region' as breakdown,
        region as segment,
        score
    from period_responses
    where is_account_answer
    union all
    select
        survey_type,
        period_type,
        period_start,
        'product' as breakdown,
        product_id as segment,
        score
    from period_responses
    where is_product_answer
),

scores as (
    select
        survey_type,
        period_type,
        period_start,
        breakdown,
        segment,
        count(*) as respondents,
        sum(case when score >= 9 then 1 else 0 end) as promoters,
        sum(case when score between 7 and 8 then 1 else 0 end) as passives,
        sum(case when score <= 6 then 1 else 0 end) as detractors,
        sum(score) as score_total
    from counted_answers
    group by
        survey_type,
        period_type,
        period_start,
        breakdown,
        segment
),

segments as (
    select distinct
        survey_type,
        breakdown,
        segment
    from counted_answers
),

spine as (
    select
        segments.survey_type,
        survey_periods.period_type,
        survey_periods.period_start,
        survey_periods.period_end,
        segments.breakdown,
        segments.segment
    from segments
    cross join survey_periods
),

counts as (
    select
        spine.survey_type,
        spine.period_type,
        spine.period_start,
        spine.period_end,
        spine.breakdown,
        spine.segment,
        cast(coalesce(scores.respondents, 0) as {{ dbt.type_bigint() }}) as respondents,
        cast(case when spine.survey_type = 'nps' then coalesce(scores.promoters, 0) end as {{ dbt.type_bigint() }}) as promoters,
        cast(case when spine.survey_type = 'nps' then coalesce(scores.passives, 0) end as {{ dbt.type_bigint() }}) as passives,
        cast(case when spine.survey_type = 'nps' then coalesce(scores.detractors, 0) end as {{ dbt.type_bigint() }}) as detractors,
        cast(coalesce(scores.score_total, 0) as {{ dbt.type_bigint() }}) as score_total
    from spine
    left join scores
        on
            spine.survey_type = scores.survey_type
            and spine.period_type = scores.period_type
            and spine.period_start = scores.period_start
            and spine.breakdown = scores.breakdown
            and spine.segment = scores.segment
),

final as (
    select
        survey_type,
        period_type,
        period_start,
        period_end,
        breakdown,
        segment,
        respondents,
        promoters,
        passives,
        detractors,
        score_total,
        {{ crm_kpi.safe_divide('100 * (promoters - detractors)', "case when survey_type = 'nps' then respondents end") }} as nps,
        {{ crm_kpi.safe_divide('score_total', "case when survey_type = 'csat' then respondents end") }} as csat
    from counts
)

select * from final
