{{ config(severity='warn') }}
{#-
    The stage history ends where the export's current rows are: when the as-of date is the last date in
    the data, the open pipeline of kpi_pipeline_by_period at the as-of date (company, read from the stage
    history) holds the same deals and value as the staged opportunities whose current stage is open (those
    with a stage history). A warning, not an error: it checks the export's consistency (a history that
    lags the current rows), not a formula.
-#}
with

as_of_dates as (
    select * from {{ ref('int_as_of_dates') }}
),

pipeline as (
    select
        pipeline.open_deals,
        pipeline.open_value
    from {{ ref('kpi_pipeline_by_period') }} as pipeline
    cross join as_of_dates
    where
        pipeline.breakdown = 'company'
        and pipeline.period_type = 'month'
        and pipeline.snapshot_date = as_of_dates.as_of_date
),

staged_open as (
    select
        count(*) as open_deals,
        coalesce(sum({{ crm_kpi.money('opportunities.amount') }}), 0) as open_value
    from {{ ref('int_opportunities_classified') }} as opportunities
    where
        not opportunities.is_closed
        and opportunities.opportunity_id in (
            select stage_history.opportunity_id from {{ ref('stg_crm__opportunity_stage_history') }} as stage_history
        )
)

select
    pipeline.open_deals,
    pipeline.open_value,
    staged_open.open_deals as staged_open_deals,
    staged_open.open_value as staged_open_value
from pipeline
cross join staged_open
cross join as_of_dates
where
    as_of_dates.as_of_date = as_of_dates.last_data_date
    and (pipeline.open_deals <> staged_open.open_deals or abs(pipeline.open_value - staged_open.open_value) > 0.01 * staged_open.open_deals)
