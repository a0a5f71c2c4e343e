with

campaigns as (
    select * from {{ ref('stg_crm__campaigns') }}
),

campaign_months as (
    select * from {{ ref('int_campaign_months_measured') }}
),

campaign_totals as (
    select
        campaigns.campaign_id,
        campaigns.campaign_name,
        campaigns.channel,
        'first_touch' as attribution_rule,
        coalesce(sum(campaign_months.spend), 0) as spend,
        coalesce(sum(campaign_months.leads), 0) as leads,
        coalesce(sum(campaign_months.mqls), 0) as mqls,
        coalesce(sum(campaign_months.new_customers), 0) as new_customers,
        coalesce(sum(campaign_months.attributed_revenue), 0) as attributed_revenue
    from campaigns
    left join campaign_months
        on campaigns.campaign_id = campaign_months.campaign_id
    group by
        campaigns.campaign_id,
        campaigns.campaign_name,
        campaigns.channel
),

final as (
    select
        campaign_id,
        campaign_name,
        channel,
        attribution_rule,
        {{ crm_kpi.cac_ratios() }}
    from campaign_totals
)

select * from final
