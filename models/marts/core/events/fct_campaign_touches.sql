{{
    config(
        unique_key='touch_id',
        post_hook="{{ crm_kpi.incremental_cleanup(parents=[{'column': 'lead_id', 'model': 'int_leads_lifecycle', 'key': 'lead_id'}, {'column': 'campaign_id', 'model': 'stg_crm__campaigns', 'key': 'campaign_id'}]) }}",
    )
}}

{#- A touch is re-read when it is in the window, or when its lead was created in the window. -#}
{%- set touch_window -%}
{{ crm_kpi.in_incremental_window('touched_at') }}
or lead_id in (
    select lead_id from {{ ref('int_leads_lifecycle') }}
    where {{ crm_kpi.in_incremental_window('created_at', this_column='touched_at') }}
)
{%- endset %}

with

touches as (
    select * from {{ ref('stg_crm__campaign_touches') }}
    where {{ touch_window }}
),

leads as (
    select
        lead_id,
        created_at
    from {{ ref('int_leads_lifecycle') }}
),

campaigns as (
    select campaign_id from {{ ref('stg_crm__campaigns') }}
),

final as (
    select
        touches.touch_id,
        touches.campaign_id,
        touches.lead_id,
        touches.touched_at,
        touches.touch_type
    from touches
    inner join leads
        on touches.lead_id = leads.lead_id
    inner join campaigns
        on touches.campaign_id = campaigns.campaign_id
    where
        {{ crm_kpi.in_incremental_window('touches.touched_at') }}
        or {{ crm_kpi.in_incremental_window('leads.created_at', this_column='touched_at') }}
)

select * from final
