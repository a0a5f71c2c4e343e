{#-
    Reconciliation (F6-F9): for every period type and grouping level (rep, team, all), kpi_lead_response
    sums to the leads in staging created by the as-of date, to the leads of the lifecycle that reached
    MQL, and its responded leads and contacted prospects to the staged leads that have an outbound
    activity by a rep (role sdr, bdr, ae, am) at or after their creation, by the as-of date. No lead
    is dropped, whichever way the mart is cut.
-#}
with

as_of_dates as (
    select * from {{ ref('int_as_of_dates') }}
),

staged_leads as (
    select
        leads.lead_id,
        leads.created_at
    from {{ ref('stg_crm__leads') }} as leads
    cross join as_of_dates
    where cast(leads.created_at as date) <= as_of_dates.as_of_date
),

answered_leads as (
    select distinct staged_leads.lead_id
    from staged_leads
    inner join {{ ref('stg_crm__activities') }} as activities
        on staged_leads.lead_id = activities.lead_id
    inner join {{ ref('stg_crm__users') }} as crm_users
        on activities.user_id = crm_users.user_id
    cross join as_of_dates
    where
        activities.direction = 'outbound'
        and crm_users.role in ('sdr', 'bdr', 'ae', 'am')
        and activities.occurred_at >= staged_leads.created_at
        and cast(activities.occurred_at as date) <= as_of_dates.as_of_date
),

expected as (
    select
        (select count(*) from staged_leads) as leads,
        (select count(*) from answered_leads) as leads_responded,
        (select count(mql_at) from {{ ref('int_leads_lifecycle') }}) as mqls
),

mart_sums as (
    select
        period_type,
        grouping_level,
        sum(leads) as leads,
        sum(leads_responded) as leads_responded,
        sum(prospects_contacted) as prospects_contacted,
        sum(mqls) as mqls
    from {{ ref('kpi_lead_response') }}
    group by 1, 2
)

select
    mart_sums.*,
    expected.leads as expected_leads,
    expected.leads_responded as expected_leads_responded,
    expected.mqls as expected_mqls
from mart_sums
cross join expected
where
    mart_sums.leads <> expected.leads
    or mart_sums.leads_responded <> expected.leads_responded
    or mart_sums.prospects_contacted <> expected.leads_responded
    or mart_sums.mqls <> expected.mqls
