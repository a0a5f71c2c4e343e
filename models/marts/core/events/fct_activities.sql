{{
    config(
        unique_key='activity_id',
        post_hook="{{ crm_kpi.incremental_cleanup('cast(occurred_at as date)') }}",
    )
}}

with

activities as (
    select * from {{ ref('stg_crm__activities') }}
    where {{ crm_kpi.in_incremental_window('occurred_at') }}
),

as_of_dates as (
    select * from {{ ref('int_as_of_dates') }}
),

final as (
    select
        activities.activity_id,
        activities.activity_type,
        activities.direction,
        activities.user_id,
        activities.lead_id,
        activities.opportunity_id,
        activities.account_id,
        activities.occurred_at,
        activities.outcome
    from activities
    cross join as_of_dates
    where
        cast(activities.occurred_at as date) <= as_of_dates.as_of_date
        and {{ crm_kpi.in_incremental_window('activities.occurred_at') }}
)

select * from final
