with

{# Labelled and rounded as published (int_campaign_months_published), the months kpi_campaign_cac sums. -#}
campaign_months as (
    select * from {{ ref('int_campaign_months_published') }}
),

final as (
    select
        campaign_id,
        month_start as month,
        campaign_name,
        channel,
        attribution_rule,
        {{ crm_kpi.cac_ratios() }}
    from campaign_months
)

select * from final
