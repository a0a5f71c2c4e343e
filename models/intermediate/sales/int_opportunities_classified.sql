{#-
    One row per opportunity created on or before the as-of date, with its stage's pipeline facts
    (closed, won, probability, order) and whether it was won or lost by the as-of date. Its amount is
    rounded to the cent here, once: every sum of bookings over any period is a sum of cents, the same
    over weeks, months and quarters.
-#}
with

opportunities as (
    select * from {{ ref('stg_crm__opportunities') }}
),

stages as (
    select * from {{ ref('stg_crm__stages') }}
),

as_of_dates as (
    select * from {{ ref('int_as_of_dates') }}
),

classified as (
    select
        opportunities.opportunity_id,
        opportunities.account_id,
        opportunities.owner_user_id,
        opportunities.source_lead_id,
        opportunities.opportunity_type,
        opportunities.created_at,
        opportunities.close_date,
        {{ crm_kpi.month_of('opportunities.close_date') }} as close_month,
        opportunities.stage,
        stages.sort_order as stage_sort_order,
        stages.probability as stage_probability,
        stages.is_closed,
        stages.is_won,
        stages.is_closed and opportunities.close_date <= as_of_dates.as_of_date as is_closed_by_as_of,
        stages.is_won and opportunities.close_date <= as_of_dates.as_of_date as is_won_by_as_of,
        stages.is_closed and not stages.is_won and opportunities.close_date <= as_of_dates.as_of_date as is_lost_by_as_of,
        {{ crm_kpi.money('opportunities.amount') }} as amount,
        opportunities.original_amount,
        opportunities.original_currency,
        opportunities.exchange_rate,
        opportunities.lost_reason,
        opportunities.competitor_id
    from opportunities
    inner join stages
        on opportunities.stage = stages.stage
    cross join as_of_dates
    where cast(opportunities.created_at as date) <= as_of_dates.as_of_date
)

select * from classified
