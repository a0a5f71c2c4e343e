-- Cost per lead and per MQL (M2) and CAC (M1) per channel and month: ratios of the sums of the
-- campaign rows of kpi_campaign_cac_monthly (never an average of the campaigns' ratios), under one
-- attribution rule (leads, MQLs and spend do not depend on it; new customers do). The unattributed
-- row has no channel and no spend: it is left out.
with

campaign_months as (
    select * from {{ ref('kpi_campaign_cac_monthly') }}
    where
        attribution_rule = 'first_touch'
        and campaign_id <> 'unattributed'
),

channel_months as (
    select
        channel,
        month,
        sum(spend) as spend,
        sum(leads) as leads,
        sum(mqls) as mqls,
        sum(new_customers) as new_customers
    from campaign_months
    group by
        channel,
        month
)

select
    channel,
    month,
    spend,
    leads,
    mqls,
    new_customers,
    {{ crm_kpi.safe_divide('spend', 'leads') }} as cost_per_lead,
    {{ crm_kpi.safe_divide('spend', 'mqls') }} as cost_per_mql,
    {{ crm_kpi.safe_divide('spend', 'new_customers') }} as cac
from channel_months
order by
    channel,
    month
