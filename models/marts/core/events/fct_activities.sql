{#-
    A thin fact: staging (incremental) already holds each activity once, typed and deduped, so the fact
    is a view of its rows up to the as-of date, not a second copy of 9M rows (a table on Spark, which
    re-evaluates a view at every reference).
-#}
{{
    config(
        materialized=('table' if target.type == 'spark' else 'view'),
    )
}}

with

activities as (
    select * from {{ ref('stg_crm__activities') }}
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
    where cast(activities.occurred_at as date) <= as_of_dates.as_of_date
)

select * from final
