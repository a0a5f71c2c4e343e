{#-
    One row per lead created on or before the as-of date: its cohort month and the time it reached
    each funnel stage (see the lead_lifecycle docs block). A later stage implies the earlier ones.
-#}
with

leads as (
    select * from {{ ref('stg_crm__leads') }}
),

status_history as (
    select * from {{ ref('stg_crm__lead_status_history') }}
),

opportunities as (
    select * from {{ ref('int_opportunities_classified') }}
),

as_of_dates as (
    select * from {{ ref('int_as_of_dates') }}
),

first_status_times as (
    select
        status_history.lead_id,
        min(case when status_history.status = 'mql' then status_history.changed_at end) as first_mql_status_at,
        min(case when status_history.status = 'sql' then status_history.changed_at end) as first_sql_status_at,
        min(case when status_history.status = 'converted' then status_history.changed_at end) as first_converted_status_at,
        min(case when status_history.status = 'disqualified' then status_history.changed_at end) as first_disqualified_at
    from status_history
    cross join as_of_dates
    where cast(status_history.changed_at as date) <= as_of_dates.as_of_date
    group by status_history.lead_id
),

lead_opportunities as (
    select
        source_lead_id as lead_id,
        min(created_at) as opportunity_at,
        min(case when is_won_by_as_of then close_date end) as won_on,
        count(*) as opportunities_sourced
    from opportunities
    where source_lead_id is not null
    group by source_lead_id
),

stage_times as (
    select
        leads.lead_id,
        leads.lead_person_key,
        leads.created_at,
        {{ crm_kpi.month_of('leads.created_at') }} as cohort_month,
        leads.channel,
        leads.source_campaign_id,
        leads.owner_user_id,
        leads.region,
        leads.country,
        leads.status as current_status,
        leads.converted_account_id,
        leads.converted_opportunity_id,
        first_status_times.first_disqualified_at as disqualified_at,
        lead_opportunities.opportunity_at,
        lead_opportunities.won_on,
        coalesce(lead_opportunities.opportunities_sourced, 0) as opportunities_sourced,
        least(
            first_status_times.first_sql_status_at,
            first_status_times.first_converted_status_at,
            lead_opportunities.opportunity_at
        ) as sql_at,
        first_status_times.first_mql_status_at
    from leads
    cross join as_of_dates
    left join first_status_times
        on leads.lead_id = first_status_times.lead_id
    left join lead_opportunities
        on leads.lead_id = lead_opportunities.lead_id
    where cast(leads.created_at as date) <= as_of_dates.as_of_date
),

final as (
    select
        lead_id,
        lead_person_key,
        created_at,
        cohort_month,
        channel,
        source_campaign_id,
        owner_user_id,
        region,
        country,
        current_status,
        converted_account_id,
        converted_opportunity_id,
        least(first_mql_status_at, sql_at) as mql_at,
        sql_at,
        opportunity_at,
        won_on,
        disqualified_at,
        opportunities_sourced,
        least(first_mql_status_at, sql_at) is not null as is_mql,
        sql_at is not null as is_sql,
        opportunity_at is not null as has_opportunity,
        won_on is not null as is_won
    from stage_times
)

select * from final
