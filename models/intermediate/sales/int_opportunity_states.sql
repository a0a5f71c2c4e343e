{#-
    The opportunity's state as of any moment, from its stage history: one row per stage-history row
    (a change of stage, amount or close date) of an opportunity in int_opportunities_classified, changed
    on or before the as-of date, valid from its changed_at until the next change of the same deal
    (valid_to null: still the state on the as-of date). The amount is converted into the reporting
    currency at the deal's carried rate (the rate of its created date) and rounded to cents per state, so
    sums of states add up exactly. The previous state's stage, amount and openness sit beside each row
    (the movements of the pipeline waterfall). Deals without a stage-history row have no state: the past
    pipeline is read from the history only, never from today's row.
    An export without any stage history (the optional table absent, empty or wholly quarantined) still
    says when each deal was open: from its created_at until its close_date (when closed by the as-of
    date). Those dated states (is_from_stage_history false) carry what the dates determine (open or
    closed, won or lost, and a closed deal's final stage and amount) and null for what only the history
    knows (an open state's stage, probability, amount and expected close date), so that open-deal and
    created-deal counts and the close ratio are answered and every pipeline value says unknown.
-#}
with

stage_history as (
    select * from {{ ref('stg_crm__opportunity_stage_history') }}
),

opportunities as (
    select * from {{ ref('int_opportunities_classified') }}
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
        {{ crm_kpi.money('stage_history.amount * opportunities.exchange_rate') }} as amount,
        true as is_from_stage_history,
        0 as order_within_moment
    from stage_history
    inner join opportunities
        on stage_history.opportunity_id = opportunities.opportunity_id
    inner join stages
        on stage_history.stage = stages.stage
    cross join as_of_dates
    where cast(stage_history.changed_at as date) <= as_of_dates.as_of_date
),

{# Without any stage history: each deal open from its creation, closed on its close date. -#}
dated_changes as (
    select
        opportunity_id,
        created_at as changed_at,
        cast(null as {{ dbt.type_string() }}) as stage,  -- noqa: RF04
        cast(null as {{ crm_kpi.type_double() }}) as stage_probability,
        false as is_closed,
        false as is_won,
        cast(null as date) as close_date,
        cast(null as decimal(18, 2)) as amount,
        false as is_from_stage_history,
        0 as order_within_moment
    from opportunities
    union all
    select
        opportunity_id,
        {#- Never before its creation (a deal closed the day it was created, or a close date before it). #}
        greatest(created_at, cast(close_date as {{ dbt.type_timestamp() }})) as changed_at,
        stage,
        stage_probability,
        true as is_closed,
        is_won,
        close_date,
        amount,
        false as is_from_stage_history,
        1 as order_within_moment
    from opportunities
    where is_closed_by_as_of
),

all_changes as (
    select * from changes
    union all
    select * from dated_changes
    where not exists (select 1 from stage_history)
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
        is_from_stage_history,
        row_number() over (partition by opportunity_id order by changed_at, order_within_moment) as state_number,
        lead(changed_at) over (partition by opportunity_id order by changed_at, order_within_moment) as next_changed_at,
        lag(stage) over (partition by opportunity_id order by changed_at, order_within_moment) as previous_stage,
        {{ crm_kpi.money('lag(amount) over (partition by opportunity_id order by changed_at, order_within_moment)') }} as previous_amount,
        lag(is_closed) over (partition by opportunity_id order by changed_at, order_within_moment) as previous_is_closed
    from all_changes
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
        sequenced.is_from_stage_history,
        opportunities.owner_user_id,
        opportunities.account_id,
        opportunities.source_lead_id,
        opportunities.opportunity_type
    from sequenced
    inner join opportunities
        on sequenced.opportunity_id = opportunities.opportunity_id
)

select * from final
