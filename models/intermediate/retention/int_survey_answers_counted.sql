{#-
    The customer survey answers each month and quarter counts (C7's input): one row per answer and
    reporting period (month or quarter) whose days up to its snapshot date hold the answer, with the two
    ranks the KPIs count by: an account counts once per survey and period, with its latest answer
    (is_account_answer), and once per product it was asked about (is_product_answer; an answer about no
    product is about product `none`). Ties on the time go to the greater response_id.
-#}
with

responses as (
    select * from {{ ref('stg_crm__survey_responses') }}
),

periods as (
    select * from {{ ref('int_periods_spined') }}
    where period_type in ('month', 'quarter')
),

ranked as (
    select
        responses.survey_type,
        periods.period_type,
        periods.period_start,
        responses.response_id,
        responses.account_id,
        coalesce(responses.product_id, 'none') as product_id,
        responses.score,
        row_number() over (
            partition by responses.survey_type, periods.period_type, periods.period_start, responses.account_id
            order by responses.responded_at desc, responses.response_id desc
        ) as account_answer_rank,
        row_number() over (
            partition by
                responses.survey_type,
                periods.period_type,
                periods.period_start,
                responses.account_id,
                coalesce(responses.product_id, 'none')
            order by responses.responded_at desc, responses.response_id desc
        ) as product_answer_rank
    from responses
    inner join periods
        on
            cast(responses.responded_at as date) >= periods.period_start
            and cast(responses.responded_at as date) <= periods.snapshot_date
),

final as (
    select
        survey_type,
        period_type,
        period_start,
        response_id,
        account_id,
        product_id,
        score,
        account_answer_rank = 1 as is_account_answer,
        product_answer_rank = 1 as is_product_answer
    from ranked
)

select * from final
