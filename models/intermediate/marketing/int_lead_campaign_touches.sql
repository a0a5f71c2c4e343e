{#-
    One row per campaign touch of a lead of the lifecycle (staged, created by the as-of date), only
    touches of campaigns in staging; a lead without any such touch has its source campaign (when in
    staging) as its one touch, at the lead's creation. Each row carries the lead's first-touch campaign
    (int_leads_attributed), so the attribution rules read one model. See multi_touch_attribution.
-#}
with

leads as (
    select * from {{ ref('int_leads_lifecycle') }}
),

attributed_leads as (
    select * from {{ ref('int_leads_attributed') }}
),

campaigns as (
    select campaign_id from {{ ref('stg_crm__campaigns') }}
),

touches as (
    select * from {{ ref('stg_crm__campaign_touches') }}
),

campaign_touches as (
    select
        touches.lead_id,
        touches.campaign_id,
        touches.touched_at,
        touches.touch_id,
        false as is_source_campaign
    from touches
    inner join campaigns
        on touches.campaign_id = campaigns.campaign_id
    inner join leads
        on touches.lead_id = leads.lead_id
),

touched_leads as (
    select distinct lead_id from campaign_touches
),

source_campaign_touches as (
    select
        leads.lead_id,
        leads.source_campaign_id as campaign_id,
        leads.created_at as touched_at,
        cast(null as {{ dbt.type_string() }}) as touch_id,
        true as is_source_campaign
    from leads
    inner join campaigns
        on leads.source_campaign_id = campaigns.campaign_id
    left join touched_leads
        on leads.lead_id = touched_leads.lead_id
    where touched_leads.lead_id is null
),

lead_touches as (
    select * from campaign_touches
    union all
    select * from source_campaign_touches
),

final as (
    select
        lead_touches.lead_id,
        lead_touches.campaign_id,
        lead_touches.touched_at,
        lead_touches.touch_id,
        lead_touches.is_source_campaign,
        attributed_leads.attributed_campaign_id as first_touch_campaign_id
    from lead_touches
    left join attributed_leads
        on lead_touches.lead_id = attributed_leads.lead_id
)

select * from final
