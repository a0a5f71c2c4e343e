{#-
    Pipeline coverage per quarter for the company, each team and each rep: the pipeline open at the start of
    the quarter (read on the previous quarter's last day) whose close date falls in the quarter, over the
    quarter's quota. Both halves are read from the marts that define them (kpi_pipeline_by_period's quarter
    rows, kpi_quota_attainment's quarter rows), so coverage can never disagree with them.
-#}
with

pipeline as (
    select * from {{ ref('kpi_pipeline_by_period') }}
),

quotas as (
    select * from {{ ref('kpi_quota_attainment') }}
),

{# The previous quarter's row, complete only (read on its last day), moved to the quarter it covers. -#}
pipeline_at_start as (
    select
        cast({{ dbt.dateadd('day', 1, 'period_end') }} as date) as quarter_start,
        snapshot_date,
        breakdown,
        breakdown_id,
        breakdown_name,
        open_value_closing_next_period as open_pipeline_closing_in_quarter,
        weighted_value_closing_next_period as weighted_pipeline_closing_in_quarter
    from pipeline
    where
        period_type = 'quarter'
        and breakdown in ('company', 'team', 'rep')
        and snapshot_date = period_end
),

quarters as (
    select distinct
        quarter_start,
        snapshot_date
    from pipeline_at_start
),

quarter_quotas as (
    select
        quotas.period_start as quarter_start,
        quotas.breakdown,
        quotas.breakdown_id,
        quotas.breakdown_name,
        quotas.quota
    from quotas
    inner join quarters
        on quotas.period_start = quarters.quarter_start
    where
        quotas.period_type = 'quarter'
        and quotas.breakdown in ('company', 'team', 'rep')
),

{# A member with pipeline and no quota row, or a quota and no pipeline row, has a row. -#}
members as (
    select
        quarter_start,
        breakdown,
        breakdown_id
    from pipeline_at_start
    union
    select
        quarter_start,
        breakdown,
        breakdown_id
    from quarter_quotas
),

final as (
    select
        members.quarter_start,
        cast({{ dbt.last_day('members.quarter_start', 'quarter') }} as date) as quarter_end,
        quarters.snapshot_date,
        members.breakdown,
        members.breakdown_id,
        coalesce(pipeline_at_start.breakdown_name, quarter_quotas.breakdown_name) as breakdown_name,
        {{ crm_kpi.money('coalesce(pipeline_at_start.open_pipeline_closing_in_quarter, 0)') }} as open_pipeline_closing_in_quarter,
        {{ crm_kpi.money('coalesce(pipeline_at_start.weighted_pipeline_closing_in_quarter, 0)') }} as weighted_pipeline_closing_in_quarter,
        {{ crm_kpi.money('quarter_quotas.quota') }} as quarter_quota,
        {{ crm_kpi.safe_divide('coalesce(pipeline_at_start.open_pipeline_closing_in_quarter, 0)', 'quarter_quotas.quota') }} as pipeline_coverage,
        {{ crm_kpi.safe_divide('coalesce(pipeline_at_start.weighted_pipeline_closing_in_quarter, 0)', 'quarter_quotas.quota') }} as weighted_pipeline_coverage
    from members
    inner join quarters
        on members.quarter_start = quarters.quarter_start
    left join pipeline_at_start
        on
            members.quarter_start = pipeline_at_start.quarter_start
            and members.breakdown = pipeline_at_start.breakdown
            and members.breakdown_id = pipeline_at_start.breakdown_id
    left join quarter_quotas
        on
            members.quarter_start = quarter_quotas.quarter_start
            and members.breakdown = quarter_quotas.breakdown
            and members.breakdown_id = quarter_quotas.breakdown_id
)

select * from final
