{#-
    Reconciliation (F1 period-based, F11): for each period type, the stage entries of
    kpi_funnel_stage_entries summed over periods and channels equal the leads in staging created by
    the as-of date and the leads of the lifecycle that reached each stage; its new customers equal
    the accounts acquired whose first won deal has a source lead of the lifecycle.
-#}
with

as_of_dates as (
    select * from {{ ref('int_as_of_dates') }}
),

staged_leads as (
    select count(*) as leads
    from {{ ref('stg_crm__leads') }} as leads
    cross join as_of_dates
    where cast(leads.created_at as date) <= as_of_dates.as_of_date
),

lifecycle_counts as (
    select
        count(mql_at) as mqls,
        count(sql_at) as sqls,
        count(opportunity_at) as opportunities,
        count(won_on) as wins
    from {{ ref('int_leads_lifecycle') }}
),

acquisitions as (
    select count(*) as new_customers
    from {{ ref('int_accounts_acquired') }} as acquired
    inner join {{ ref('int_leads_lifecycle') }} as leads
        on acquired.source_lead_id = leads.lead_id
),

mart_sums as (
    select
        period_type,
        sum(leads_created) as leads_created,
        sum(entered_mql) as entered_mql,
        sum(entered_sql) as entered_sql,
        sum(entered_opportunity) as entered_opportunity,
        sum(entered_won) as entered_won,
        sum(new_customers) as new_customers
    from {{ ref('kpi_funnel_stage_entries') }}
    group by 1
)

select mart_sums.*
from mart_sums
cross join staged_leads
cross join lifecycle_counts
cross join acquisitions
where
    mart_sums.leads_created <> staged_leads.leads
    or mart_sums.entered_mql <> lifecycle_counts.mqls
    or mart_sums.entered_sql <> lifecycle_counts.sqls
    or mart_sums.entered_opportunity <> lifecycle_counts.opportunities
    or mart_sums.entered_won <> lifecycle_counts.wins
    or mart_sums.new_customers <> acquisitions.new_customers
