{#
    Tasks and events are one table of activities: a WhoId of a lead (key prefix 00Q) is the lead, a
    WhatId of an opportunity (006) the deal, the account the record's AccountId or an account WhatId
    (001). Deleted tasks and events are left out (the contract's activities have no is_deleted).
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
        source_row_number,
        id,
        type,
        direction_c as direction,
        owner_id,
        who_id,
        what_id,
        account_id,
        start_date_time as occurred_at,
        outcome_c as outcome
    from events
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
