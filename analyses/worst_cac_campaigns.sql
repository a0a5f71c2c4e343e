-- The 10 campaigns with the highest CAC (spend per new customer, first touch), then the campaigns
-- that spent money and won no customer at all (CAC null: infinitely bad), by spend. Another rule:
-- change attribution_rule (last_touch, linear, position_based).
select
    campaign_id,
    campaign_name,
    channel,
    spend,
    new_customers,
    cac,
    cost_per_lead,
    roi
from {{ ref('kpi_campaign_cac') }}
where spend > 0 and attribution_rule = 'first_touch'
order by
    case when cac is null then 0 else 1 end,
    cac desc,
    spend desc
limit 10
