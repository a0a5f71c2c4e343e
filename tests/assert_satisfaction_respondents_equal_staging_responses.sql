{#-
    Reconciliation (C7): per survey type and period (month, quarter), the respondents of the total row of
    kpi_customer_satisfaction equal the distinct staged accounts that answered in the period (on or before
    the as-of date), the region rows sum to them, and the product rows sum to the distinct account and
    product pairs that answered.
-#}
with

periods as (
    select * from {{ ref('int_periods_spined') }}
    where period_type in ('month', 'quarter')
),

answers as (
    select
        responses.survey_type,
        periods.period_type,
        periods.period_start,
        responses.account_id,
        coalesce(responses.product_id, 'none') as product_id
    from {{ ref('stg_crm__survey_responses') }} as responses
    inner join {{ ref('stg_crm__accounts') }} as staged_accounts
        on responses.account_id = staged_accounts.account_id
    inner join periods
        on
            cast(responses.responded_at as date) >= periods.period_start
            and cast(responses.responded_at as date) <= periods.snapshot_date
),

staging_respondents as (
    select
        survey_type,
        period_type,
        period_start,
        count(distinct account_id) as account_count
    from answers
    group by
        survey_type,
        period_type,
        period_start
),

staging_pairs as (
    select
        survey_type,
        period_type,
        period_start,
        count(*) as pairs
    from (
        select distinct
            survey_type,
            period_type,
            period_start,
            account_id,
            product_id
        from answers
    ) as distinct_pairs
    group by
        survey_type,
        period_type,
        period_start
),

mart_breakdowns as (
    select
        survey_type,
        period_type,
        period_start,
        sum(case when breakdown = 'total' then respondents else 0 end) as total_respondents,
        sum(case when breakdown = 'region' then respondents else 0 end) as region_respondents,
        sum(case when breakdown = 'product' then respondents else 0 end) as product_respondents
    from {{ ref('kpi_customer_satisfaction') }}
    group by
        survey_type,
        period_type,
        period_start
)

select
    coalesce(mart_breakdowns.survey_type, staging_respondents.survey_type) as survey_type,
    coalesce(mart_breakdowns.period_type, staging_respondents.period_type) as period_type,
    coalesce(mart_breakdowns.period_start, staging_respondents.period_start) as period_start,
    staging_respondents.account_count,
    staging_pairs.pairs,
    mart_breakdowns.total_respondents,
    mart_breakdowns.region_respondents,
    mart_breakdowns.product_respondents
from mart_breakdowns
full outer join staging_respondents
    on
        mart_breakdowns.survey_type = staging_respondents.survey_type
        and mart_breakdowns.period_type = staging_respondents.period_type
        and mart_breakdowns.period_start = staging_respondents.period_start
left join staging_pairs
    on
        staging_respondents.survey_type = staging_pairs.survey_type
        and staging_respondents.period_type = staging_pairs.period_type
        and staging_respondents.period_start = staging_pairs.period_start
where
    coalesce(mart_breakdowns.total_respondents, 0) <> coalesce(staging_respondents.account_count, 0)
    or coalesce(mart_breakdowns.region_respondents, 0) <> coalesce(staging_respondents.account_count, 0)
    or coalesce(mart_breakdowns.product_respondents, 0) <> coalesce(staging_pairs.pairs, 0)
