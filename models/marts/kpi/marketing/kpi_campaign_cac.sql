{#- The rules of int_won_deals_attributed: every campaign, and the unattributed row, has a row under each. -#}
{%- set attribution_rules = ['first_touch', 'last_touch', 'linear', 'position_based'] -%}

with

{# The campaigns of the export (dim_campaigns without its unknown member, the unattributed row). -#}
campaigns as (
    select * from {{ ref('dim_campaigns') }}
    where is_campaign
),

{# A campaign's totals are the sums of its months as kpi_campaign_cac_monthly publishes them (each rounded), so
    the two marts agree to the cent and the millionth of a customer. -#}
campaign_months as (
    select * from {{ ref('int_campaign_months_published') }}
),

attribution_rules as (
    {%- for rule in attribution_rules %}
    select '{{ rule }}' as attribution_rule
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
),

-- Every campaign under every rule, and the unattributed row of each rule (when there are campaigns).
campaign_rules as (
    select
        campaigns.campaign_id,
        campaigns.campaign_name,
        campaigns.channel,
        attribution_rules.attribution_rule
    from campaigns
    cross join attribution_rules
    union all
    select
        'unattributed' as campaign_id,
        'Unattributed' as campaign_name,
        cast(null as {{ dbt.type_string() }}) as channel,
        attribution_rules.attribution_rule
    from attribution_rules
    where (select count(*) from campaigns) > 0
),

rule_totals as (
    select
        campaign_id,
        attribution_rule,
        sum(spend) as spend,
        sum(leads) as leads,
        sum(mqls) as mqls,
        sum(new_customers) as new_customers,
        sum(attributed_revenue) as attributed_revenue
    from campaign_months
    group by
        campaign_id,
        attribution_rule
),

campaign_totals as (
    select
        campaign_rules.campaign_id,
        campaign_rules.campaign_name,
        campaign_rules.channel,
        campaign_rules.attribution_rule,
        coalesce(rule_totals.spend, 0) as spend,
        coalesce(rule_totals.leads, 0) as leads,
        coalesce(rule_totals.mqls, 0) as mqls,
        coalesce(rule_totals.new_customers, 0) as new_customers,
        coalesce(rule_totals.attributed_revenue, 0) as attributed_revenue
    from campaign_rules
    left join rule_totals
        on
            campaign_rules.campaign_id = rule_totals.campaign_id
            and campaign_rules.attribution_rule = rule_totals.attribution_rule
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
