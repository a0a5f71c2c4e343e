{#
    Tasks and events are one table of activities: a WhoId of a lead (key prefix 00Q) is the lead, a
    WhatId of an opportunity (006) the deal, the account the record's AccountId or an account WhatId
    (001). Deleted tasks and events are left out (the contract's activities have no is_deleted). The
    rows are numbered as one file: the tasks' rows, then the events' after the last task row.
#}
with

tasks as (
    select * from {{ ref('base_salesforce__task') }}
    where not {{ crm_kpi.salesforce_is_true('is_deleted') }}
),

events as (
    select * from {{ ref('base_salesforce__event') }}
    where not {{ crm_kpi.salesforce_is_true('is_deleted') }}
),

task_rows as (
    select coalesce(max(source_row_number), 0) as last_row_number
    from {{ ref('base_salesforce__task') }}
),

activities as (
    select
        source_row_number,
        id,
        type,
        call_type as direction,
        owner_id,
        who_id,
        what_id,
        account_id,
        coalesce(completed_date_time, created_date) as occurred_at,
        call_disposition as outcome
    from tasks
    union all
    select
        events.source_row_number + task_rows.last_row_number as source_row_number,
        events.id,
        events.type,
        events.direction_c as direction,
        events.owner_id,
        events.who_id,
        events.what_id,
        events.account_id,
        events.start_date_time as occurred_at,
        events.outcome_c as outcome
    from events
    cross join task_rows
),

final as (
    select
        source_row_number,
        {{ crm_kpi.salesforce_id('id') }} as activity_id,
        {{ crm_kpi.salesforce_picklist('type', 'activity_type') }} as activity_type,
        {{ crm_kpi.salesforce_picklist('direction', 'direction') }} as direction,
        {{ crm_kpi.salesforce_id('owner_id') }} as user_id,
        case when who_id like '00Q%' then {{ crm_kpi.salesforce_id('who_id') }} end as lead_id,
        case when what_id like '006%' then {{ crm_kpi.salesforce_id('what_id') }} end as opportunity_id,
        {{ crm_kpi.salesforce_id("coalesce(account_id, case when what_id like '001%' then what_id end)") }} as account_id,
        occurred_at,
        {{ crm_kpi.salesforce_picklist('outcome', 'outcome') }} as outcome
    from activities
)

select * from final
