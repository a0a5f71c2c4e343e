{{
    config(
        unique_key=['opportunity_id', 'changed_at'],
        post_hook="{{ crm_kpi.incremental_cleanup('cast(changed_at as date)', [{'column': 'opportunity_id', 'model': 'int_opportunities_classified', 'key': 'opportunity_id'}]) }}",
    )
}}

with

stage_history as (
    select * from {{ ref('stg_crm__opportunity_stage_history') }}
    where {{ crm_kpi.in_incremental_window('changed_at') }}
),

opportunities as (
    select
        opportunity_id,
        original_currency,
        exchange_rate
    from {{ ref('int_opportunities_classified') }}
),

as_of_dates as (
    select * from {{ ref('int_as_of_dates') }}
),

final as (
    select
        stage_history.opportunity_id,
        stage_history.changed_at,
        stage_history.stage,
        stage_history.close_date,
        {{ crm_kpi.money('stage_history.amount * opportunities.exchange_rate') }} as amount,
        stage_history.amount as original_amount,
        opportunities.original_currency
    from stage_history
    inner join opportunities
        on stage_history.opportunity_id = opportunities.opportunity_id
    cross join as_of_dates
    where
        cast(stage_history.changed_at as date) <= as_of_dates.as_of_date
        and {{ crm_kpi.in_incremental_window('stage_history.changed_at') }}
)

select * from final
