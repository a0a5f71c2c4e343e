-- Attributed revenue, new customers and ROI of each campaign under the four attribution rules side by
-- side (one row per campaign), the campaigns with the most first-touch revenue first; the
-- unattributed row shows what no campaign earns under each rule.
with

cac as (
    select * from {{ ref('kpi_campaign_cac') }}
),

side_by_side as (
    select
        campaign_id,
        campaign_name,
        channel,
        max(spend) as spend,
        sum(case when attribution_rule = 'first_touch' then attributed_revenue end) as first_touch_revenue,
        sum(case when attribution_rule = 'last_touch' then attributed_revenue end) as last_touch_revenue,
        sum(case when attribution_rule = 'linear' then attributed_revenue end) as linear_revenue,
        sum(case when attribution_rule = 'position_based' then attributed_revenue end) as position_based_revenue,
        sum(case when attribution_rule = 'first_touch' then new_customers end) as first_touch_customers,
        sum(case when attribution_rule = 'linear' then new_customers end) as linear_customers,
        sum(case when attribution_rule = 'first_touch' then roi end) as first_touch_roi,
        sum(case when attribution_rule = 'linear' then roi end) as linear_roi
    from cac
    group by
        campaign_id,
        campaign_name,
        channel
)

select *
from side_by_side
order by first_touch_revenue desc
