{#-
    Reconciliation (M4): each campaign's window and baseline bookings in kpi_campaign_lift equal the
    won deals of staging (stage is_won, close date by the as-of date) whose source lead in staging has
    the campaign's channel and region (any region for a campaign without one) and whose close date is
    in the mart's window or baseline, each deal's amount to the cent (as int_opportunities_classified
    rounds it): sums of cents, equal to the cent.
-#}
with

as_of_dates as (
    select * from {{ ref('int_as_of_dates') }}
),

won_deals as (
    select
        opportunities.close_date,
        {{ crm_kpi.money('opportunities.amount') }} as amount,
        leads.channel,
        leads.region
    from {{ ref('stg_crm__opportunities') }} as opportunities
    inner join {{ ref('stg_crm__stages') }} as pipeline_stages
        on opportunities.stage = pipeline_stages.stage
    inner join {{ ref('stg_crm__leads') }} as leads
        on opportunities.source_lead_id = leads.lead_id
    cross join as_of_dates
    where
        pipeline_stages.is_won
        and opportunities.close_date <= as_of_dates.as_of_date
        and cast(opportunities.created_at as date) <= as_of_dates.as_of_date
        and cast(leads.created_at as date) <= as_of_dates.as_of_date
),

recomputed as (
    select
        lift.campaign_id,
        lift.window_bookings,
        lift.baseline_bookings,
        coalesce(sum(case when won_deals.close_date >= lift.window_start then won_deals.amount end), 0) as staging_window_bookings,
        coalesce(sum(case when won_deals.close_date < lift.window_start then won_deals.amount end), 0) as staging_baseline_bookings
    from {{ ref('kpi_campaign_lift') }} as lift
    left join won_deals
        on
            lift.channel = won_deals.channel
            and (lift.region is null or lift.region = won_deals.region)
            and lift.baseline_start <= won_deals.close_date
            and lift.window_end >= won_deals.close_date
    group by
        lift.campaign_id,
        lift.window_bookings,
        lift.baseline_bookings
)

select *
from recomputed
where
    window_bookings <> staging_window_bookings
    or baseline_bookings <> staging_baseline_bookings
