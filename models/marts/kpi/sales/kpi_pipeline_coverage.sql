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

{# Without stage history the pipeline mart's values are null (unknown): so are a quota-only member's. -#}
quarters as (
    select
        quarter_start,
        snapshot_date,
        open_pipeline_closing_in_quarter is not null as is_pipeline_known
    from pipeline_at_start
    where breakdown = 'company'
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

measured as (
    select
        members.quarter_start,
        quarters.snapshot_date,
        members.breakdown,
        members.breakdown_id,
        coalesce(pipeline_at_start.breakdown_name, quarter_quotas.breakdown_name) as breakdown_name,
        case
            when quarters.is_pipeline_known then coalesce(pipeline_at_start.open_pipeline_closing_in_quarter, 0)
        end as open_pipeline_closing_in_quarter,
        case
            when quarters.is_pipeline_known then coalesce(pipeline_at_start.weighted_pipeline_closing_in_quarter, 0)
        end as weighted_pipeline_closing_in_quarter,
        quarter_quotas.quota
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
),

final as (
    select
        quarter_start,
        cast({{ dbt.last_day('quarter_start', 'quarter') }} as date) as quarter_end,
        snapshot_date,
        breakdown,
        breakdown_id,
        breakdown_name,
        {{ crm_kpi.money('open_pipeline_closing_in_quarter') }} as open_pipeline_closing_in_quarter,
        {{ crm_kpi.money('weighted_pipeline_closing_in_quarter') }} as weighted_pipeline_closing_in_quarter,
        {{ crm_kpi.money('quota') }} as quarter_quota,
        {{ crm_kpi.safe_divide('open_pipeline_closing_in_quarter', 'quota') }} as pipeline_coverage,
        {{ crm_kpi.safe_divide('weighted_pipeline_closing_in_quarter', 'quota') }} as weighted_pipeline_coverage
    from measured
)

select * from final
