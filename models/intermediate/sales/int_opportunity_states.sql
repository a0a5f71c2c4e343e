{#-
    The opportunity's state as of any moment, from its stage history: one row per stage-history row
    (a change of stage, amount or close date) of an opportunity in int_opportunities_classified, changed
    on or before the as-of date, valid from its changed_at until the next change of the same deal
    (valid_to null: still the state on the as-of date). The amount is converted into the reporting
    currency at the deal's carried rate (the rate of its created date) and rounded to cents per state, so
    sums of states add up exactly. The previous state's stage, amount and openness sit beside each row
    (the movements of the pipeline waterfall). Deals without a stage-history row have no state: the past
    pipeline is read from the history only, never from today's row.
-#}
with

stage_history as (
    select * from {{ ref('stg_crm__opportunity_stage_history') }}
),

opportunities as (
    select
        opportunity_id,
        account_id,
        owner_user_id,
        source_lead_id,
        opportunity_type,
        exchange_rate
    from {{ ref('int_opportunities_classified') }}
),

stages as (
    select * from {{ ref('stg_crm__stages') }}
),

as_of_dates as (
    select * from {{ ref('int_as_of_dates') }}
),

changes as (
    select
        stage_history.opportunity_id,
        stage_history.changed_at,
        stage_history.stage,
        stages.probability as stage_probability,
        stages.is_closed,
        stages.is_won,
        stage_history.close_date,
        {{ crm_kpi.money('stage_history.amount * opportunities.exchange_rate') }} as amount
    from stage_history
    inner join opportunities
        on stage_history.opportunity_id = opportunities.opportunity_id
    inner join stages
        on stage_history.stage = stages.stage
    cross join as_of_dates
    where cast(stage_history.changed_at as date) <= as_of_dates.as_of_date
),

sequenced as (
    select
        opportunity_id,
        changed_at,
        stage,
        stage_probability,
        is_closed,
        is_won,
        close_date,
        amount,
        row_number() over (partition by opportunity_id order by changed_at) as state_number,
        lead(changed_at) over (partition by opportunity_id order by changed_at) as next_changed_at,
        lag(stage) over (partition by opportunity_id order by changed_at) as previous_stage,
        {{ crm_kpi.money('lag(amount) over (partition by opportunity_id order by changed_at)') }} as previous_amount,
        lag(is_closed) over (partition by opportunity_id order by changed_at) as previous_is_closed
    from changes
),

final as (
    select
        sequenced.opportunity_id,
        sequenced.state_number,
        sequenced.changed_at as valid_from,
        sequenced.next_changed_at as valid_to,
        cast(sequenced.changed_at as date) as valid_from_on,
        cast(sequenced.next_changed_at as date) as valid_to_on,
        sequenced.stage,
        sequenced.stage_probability,
        not sequenced.is_closed as is_open,
        sequenced.is_won,
        sequenced.is_closed and not sequenced.is_won as is_lost,
        sequenced.amount,
        sequenced.close_date,
        sequenced.previous_stage,
        sequenced.previous_amount,
        not sequenced.previous_is_closed as was_open,
        opportunities.owner_user_id,
        opportunities.account_id,
        opportunities.source_lead_id,
        opportunities.opportunity_type
    from sequenced
    inner join opportunities
        on sequenced.opportunity_id = opportunities.opportunity_id
)

select * from final
