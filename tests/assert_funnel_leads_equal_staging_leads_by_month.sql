{#-
    Reconciliation (F1): per cohort month, leads summed over channels equal the leads in staging
    created that month (UTC), on or before the as-of date.
-#}
with

as_of_dates as (
    select * from {{ ref('int_as_of_dates') }}
),

staging_leads as (
    select
        {{ crm_kpi.month_of('leads.created_at') }} as cohort_month,
        count(*) as leads
    from {{ ref('stg_crm__leads') }} as leads
    cross join as_of_dates
    where cast(leads.created_at as date) <= as_of_dates.as_of_date
    group by 1
),

funnel_leads as (
    select
        cohort_month,
        sum(leads) as leads
    from {{ ref('kpi_funnel_conversion') }}
    group by 1
)

select
    coalesce(staging_leads.cohort_month, funnel_leads.cohort_month) as cohort_month,
    staging_leads.leads as staging_leads,
    funnel_leads.leads as funnel_leads
from staging_leads
full outer join funnel_leads
    on staging_leads.cohort_month = funnel_leads.cohort_month
where coalesce(staging_leads.leads, 0) <> coalesce(funnel_leads.leads, 0)
