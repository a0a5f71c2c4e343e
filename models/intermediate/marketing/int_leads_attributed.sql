{#-
    One row per lead: the campaign it is attributed to under first-touch attribution (see the
    first_touch_attribution docs block), or null when it has none.
-#}
with

leads as (
    select * from {{ ref('int_leads_lifecycle') }}
),

campaigns as (
    select campaign_id from {{ ref('stg_crm__campaigns') }}
),

touches as (
    select * from {{ ref('stg_crm__campaign_touches') }}
),

ranked_touches as (
    select
        touches.lead_id,
        touches.campaign_id,
        row_number() over (
            partition by touches.lead_id
            order by touches.touched_at, touches.touch_id
        ) as touch_rank
    from touches
    inner join campaigns
        on touches.campaign_id = campaigns.campaign_id
),

first_touches as (
    select
        lead_id,
        campaign_id
    from ranked_touches
    where touch_rank = 1
),

final as (
    select
        leads.lead_id,
        coalesce(source_campaigns.campaign_id, first_touches.campaign_id) as attributed_campaign_id,
        case
            when source_campaigns.campaign_id is not null then 'source_campaign'
            when first_touches.campaign_id is not null then 'earliest_touch'
        end as attribution_basis,
        'first_touch' as attribution_rule
    from leads
    left join campaigns as source_campaigns
        on leads.source_campaign_id = source_campaigns.campaign_id
    left join first_touches
        on leads.lead_id = first_touches.lead_id
)

select * from final
