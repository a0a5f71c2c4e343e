{#-
    F12 scores every deal of the open pipeline at the as-of date, and only those: as many scored deals, and
    the same value, as kpi_pipeline_by_period's company row of the as-of month. Without stage history (the
    pipeline's value unknown, null) no deal is scored: the score needs each deal's stage.
-#}
with

scores as (
    select
        count(*) as deals,
        coalesce(sum(amount), 0) as amount
    from {{ ref('kpi_opportunity_scores') }}
),

pipeline as (
    select
        pipeline.open_deals,
        pipeline.open_value
    from {{ ref('kpi_pipeline_by_period') }} as pipeline
    inner join {{ ref('int_as_of_dates') }} as as_of_dates
        on pipeline.snapshot_date = as_of_dates.as_of_date
    where pipeline.breakdown = 'company' and pipeline.period_type = 'month'
)

select
    scores.deals,
    scores.amount,
    pipeline.open_deals,
    pipeline.open_value
from scores
cross join pipeline
where
    case
        when pipeline.open_value is null then scores.deals > 0
        else scores.deals <> pipeline.open_deals or scores.amount <> pipeline.open_value
    end
