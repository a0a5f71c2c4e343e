{#-
    The pipeline waterfall chains and lands on the pipeline: each period's open pipeline at start is the
    previous period's at end (same period type), and its open pipeline at end is the company's open
    pipeline of kpi_pipeline_by_period for that period (count and value).
-#}
with

waterfall as (
    select * from {{ ref('kpi_pipeline_waterfall') }}
),

pipeline as (
    select * from {{ ref('kpi_pipeline_by_period') }}
    where breakdown = 'company'
),

chained as (
    select
        period_type,
        period_start,
        open_deals_at_start,
        open_value_at_start,
        lag(open_deals_at_end) over (partition by period_type order by period_start) as previous_open_deals_at_end,
        lag(open_value_at_end) over (partition by period_type order by period_start) as previous_open_value_at_end
    from waterfall
)

select
    'start differs from the previous end' as problem,
    chained.period_type,
    chained.period_start
from chained
where
    chained.previous_open_deals_at_end is not null
    and (
        chained.open_deals_at_start <> chained.previous_open_deals_at_end
        or chained.open_value_at_start <> chained.previous_open_value_at_end
    )
union all
select
    'end differs from the open pipeline' as problem,
    waterfall.period_type,
    waterfall.period_start
from waterfall
left join pipeline
    on
        waterfall.period_type = pipeline.period_type
        and waterfall.period_start = pipeline.period_start
where
    pipeline.open_deals is null
    or waterfall.open_deals_at_end <> pipeline.open_deals
    or waterfall.open_value_at_end <> pipeline.open_value
