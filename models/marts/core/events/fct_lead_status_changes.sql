{{
    config(
        unique_key=['lead_id', 'status', 'changed_at'],
        post_hook="{{ crm_kpi.incremental_cleanup('cast(changed_at as date)', [{'column': 'lead_id', 'model': 'int_leads_lifecycle', 'key': 'lead_id'}]) }}",
    )
}}

with

status_history as (
    select * from {{ ref('stg_crm__lead_status_history') }}
    where {{ crm_kpi.in_incremental_window('changed_at') }}
),

leads as (
    select lead_id from {{ ref('int_leads_lifecycle') }}
),

as_of_dates as (
    select * from {{ ref('int_as_of_dates') }}
),

final as (
    select
        status_history.lead_id,
        status_history.status,
        status_history.changed_at
    from status_history
    inner join leads
        on status_history.lead_id = leads.lead_id
    cross join as_of_dates
    where
        cast(status_history.changed_at as date) <= as_of_dates.as_of_date
        and {{ crm_kpi.in_incremental_window('status_history.changed_at') }}
)

select * from final
