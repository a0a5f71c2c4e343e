{#-
    Marketing-sourced pipeline (M6) against the pipeline and staging: in every period the campaigns'
    open and created pipeline is at most the company's (kpi_pipeline_by_period), and over all months the
    campaigns' created opportunities are exactly the opportunities with a stage history whose source lead
    is attributed to a campaign (int_leads_attributed); without any stage history in the export, every
    such opportunity created by the as-of date (the deals' own dates say when they were created).
-#}
with

sourced as (
    select
        period_type,
        period_start,
        sum(open_opportunities) as open_opportunities,
        sum(open_value) as open_value,
        sum(created_opportunities) as created_opportunities,
        sum(created_value) as created_value
    from {{ ref('kpi_marketing_sourced_pipeline') }}
    group by
        period_type,
        period_start
),

pipeline as (
    select * from {{ ref('kpi_pipeline_by_period') }}
    where breakdown = 'company'
),

first_history as (
    select
        opportunity_id,
        min(cast(changed_at as date)) as first_changed_on
    from {{ ref('stg_crm__opportunity_stage_history') }}
    group by opportunity_id
),

history_presence as (
    select count(*) as history_rows from {{ ref('stg_crm__opportunity_stage_history') }}
),

attributed_deals as (
    select count(distinct opportunities.opportunity_id) as deals
    from {{ ref('int_opportunities_classified') }} as opportunities
    inner join {{ ref('int_leads_attributed') }} as attributed_leads
        on opportunities.source_lead_id = attributed_leads.lead_id
    left join first_history
        on opportunities.opportunity_id = first_history.opportunity_id
    cross join {{ ref('int_as_of_dates') }} as as_of_dates
    cross join history_presence
    where
        attributed_leads.attributed_campaign_id is not null
        and (first_history.first_changed_on <= as_of_dates.as_of_date or history_presence.history_rows = 0)
),

created_over_months as (
    select sum(created_opportunities) as deals
    from sourced
    where period_type = 'month'
)

select
    'more than the pipeline' as problem,
    sourced.period_type,
    sourced.period_start
from sourced
inner join pipeline
    on
        sourced.period_type = pipeline.period_type
        and sourced.period_start = pipeline.period_start
where
    sourced.open_opportunities > pipeline.open_deals
    or sourced.open_value > pipeline.open_value
    or sourced.created_opportunities > pipeline.created_deals
    or sourced.created_value > pipeline.created_value
union all
select
    'created differs from the attributed deals' as problem,
    'month' as period_type,
    null as period_start
from created_over_months
cross join attributed_deals
where coalesce(created_over_months.deals, 0) <> attributed_deals.deals
