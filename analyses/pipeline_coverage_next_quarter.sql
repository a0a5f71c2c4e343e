-- Pipeline coverage for the next quarter, at every quarter end: the open weighted pipeline closing in the
-- next quarter (deals open at the quarter's snapshot date, as the stage history shows them, whose close date
-- that day falls in the next quarter; amount x stage probability) / the next quarter's quota; for the
-- company and each team. A coverage of 3 means three times the target in weighted pipeline.
-- The quota marts stop at the as-of quarter, so the row of the as-of quarter (next quarter in the future)
-- shows the pipeline with a null quota unless the export holds no later quota: read the last complete
-- quarter's row for the latest coverage.
with

pipeline as (
    select * from {{ ref('kpi_pipeline_by_period') }}
    where period_type = 'quarter' and breakdown in ('company', 'team')
),

quota as (
    select * from {{ ref('kpi_quota_attainment') }}
    where period_type = 'quarter' and breakdown in ('company', 'team')
)

select
    pipeline.period_start as quarter_start,
    pipeline.snapshot_date,
    cast({{ dbt.dateadd('day', 1, 'pipeline.period_end') }} as date) as next_quarter_start,
    pipeline.breakdown,
    pipeline.breakdown_id,
    pipeline.breakdown_name,
    pipeline.open_value_closing_next_period,
    pipeline.weighted_value_closing_next_period,
    quota.quota as next_quarter_quota,
    {{ crm_kpi.safe_divide('pipeline.weighted_value_closing_next_period', 'quota.quota') }} as weighted_pipeline_coverage,
    {{ crm_kpi.safe_divide('pipeline.open_value_closing_next_period', 'quota.quota') }} as pipeline_coverage
from pipeline
left join quota
    on
        pipeline.breakdown = quota.breakdown
        and pipeline.breakdown_id = quota.breakdown_id
        and quota.period_start = cast({{ dbt.dateadd('day', 1, 'pipeline.period_end') }} as date)
order by pipeline.period_start desc, pipeline.breakdown asc, pipeline.breakdown_id asc
