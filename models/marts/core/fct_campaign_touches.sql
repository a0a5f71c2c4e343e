with

touches as (
    select * from {{ ref('stg_crm__campaign_touches') }}
),

leads as (
    select lead_id from {{ ref('int_leads_lifecycle') }}
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
)

select * from final
