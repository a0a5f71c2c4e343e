with

campaign_months as (
    select * from {{ ref('int_campaign_months_measured') }}
),

labelled as (
    select
        coalesce(campaign_id, 'unattributed') as campaign_id,
        month_start,
        coalesce(campaign_name, 'Unattributed') as campaign_name,
        channel,
        attribution_rule,
        spend,
        leads,
        mqls,
        new_customers,
        attributed_revenue
    from campaign_months
),

final as (
    select
        campaign_id,
        month_start as month,
        campaign_name,
        channel,
        attribution_rule,
        {{ crm_kpi.cac_ratios() }}
    from labelled
)

select * from final
