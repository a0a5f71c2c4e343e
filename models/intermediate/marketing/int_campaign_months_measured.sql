{#-
    One row per campaign, month and attribution rule with the additive measures behind CAC (no
    ratios): spend, leads created and leads reaching MQL (first touch, the same under every rule), and
    the new customers and won revenue the rule credits to the campaign (int_won_deals_attributed).
    Rows with campaign_id null hold what no campaign earns (unattributed), only when there are
    campaigns at all. Months: the campaign's running months (start to end or the as-of month) and any
    month with a measure under the rule. Ratios are computed in the marts (macro cac_ratios).
-#}
{#- The rules of int_won_deals_attributed: the measures that do not depend on the rule are repeated under each. -#}
{%- set attribution_rules = ['first_touch', 'last_touch', 'linear', 'position_based'] -%}

with

campaigns as (
    select * from {{ ref('stg_crm__campaigns') }}
),

spend as (
    select * from {{ ref('stg_crm__campaign_spend') }}
),

leads as (
    select * from {{ ref('int_leads_lifecycle') }}
),

attributed_leads as (
    select * from {{ ref('int_leads_attributed') }}
),

attributed_deals as (
    select * from {{ ref('int_won_deals_attributed') }}
),

months as (
    select * from {{ ref('int_months_spined') }}
),

as_of_dates as (
    select * from {{ ref('int_as_of_dates') }}
),

campaign_count as (
    select count(*) as campaigns from campaigns
),

attribution_rules as (
    {%- for rule in attribution_rules %}
    select '{{ rule }}' as attribution_rule
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
),

{# A spend row's amount is rounded to the cent once, as fct_campaign_spend holds it; every total is a sum of those. -#}
spend_by_month as (
    select
        spend.campaign_id,
        {{ crm_kpi.month_of('spend.spend_date') }} as month_start,
        cast(sum({{ crm_kpi.money('spend.amount') }}) as {{ crm_kpi.type_double() }}) as spend
    from spend
    cross join as_of_dates
    where spend.spend_date <= as_of_dates.as_of_date
    group by 1, 2
),

-- Every lead with its first-touch campaign (null: unattributed): a lead in its cohort month, an MQL in its MQL month.
campaign_leads as (
    select
        attributed_leads.attributed_campaign_id as campaign_id,
        leads.lead_id,
        leads.cohort_month,
        leads.mql_at
    from leads
    inner join attributed_leads
        on leads.lead_id = attributed_leads.lead_id
),

credits_by_month as (
    select
        campaign_id,
        close_month as month_start,
        attribution_rule,
        sum(case when is_new_customer then credit else 0 end) as new_customers,
        sum(amount * credit) as attributed_revenue
    from attributed_deals
    group by 1, 2, 3
),

running_months as (
    select
        campaigns.campaign_id,
        months.month_start
    from campaigns
    inner join months
        on
            months.month_start >= {{ crm_kpi.month_of('campaigns.started_on') }}
            and (campaigns.ended_on >= months.month_start or campaigns.ended_on is null)
),

rule_free_measures as (
    select
        campaign_id,
        month_start,
        cast(0 as {{ crm_kpi.type_double() }}) as spend,
        0 as leads,
        0 as mqls
    from running_months
    union all
    select
        campaign_id,
        month_start,
        spend,
        0 as leads,
        0 as mqls
    from spend_by_month
    union all
    select
        campaign_id,
        cohort_month as month_start,
        cast(0 as {{ crm_kpi.type_double() }}) as spend,
        1 as leads,
        0 as mqls
    from campaign_leads
    union all
    select
        campaign_id,
        {{ crm_kpi.month_of('mql_at') }} as month_start,
        cast(0 as {{ crm_kpi.type_double() }}) as spend,
        0 as leads,
        1 as mqls
    from campaign_leads
    where mql_at is not null
),

measures as (
    select
        rule_free_measures.campaign_id,
        rule_free_measures.month_start,
        attribution_rules.attribution_rule,
        rule_free_measures.spend,
        rule_free_measures.leads,
        rule_free_measures.mqls,
        cast(0 as {{ crm_kpi.type_double() }}) as new_customers,
        cast(0 as {{ crm_kpi.type_double() }}) as attributed_revenue
    from rule_free_measures
    cross join attribution_rules
    union all
    select
        campaign_id,
        month_start,
        attribution_rule,
        cast(0 as {{ crm_kpi.type_double() }}) as spend,
        0 as leads,
        0 as mqls,
        new_customers,
        attributed_revenue
    from credits_by_month
),

campaign_months as (
    select
        campaign_id,
        month_start,
        attribution_rule,
        sum(spend) as spend,
        sum(leads) as leads,
        sum(mqls) as mqls,
        sum(new_customers) as new_customers,
        sum(attributed_revenue) as attributed_revenue
    from measures
    group by 1, 2, 3
),

final as (
    select
        campaign_months.campaign_id,
        campaign_months.month_start,
        campaigns.campaign_name,
        campaigns.channel,
        campaign_months.attribution_rule,
        campaign_months.spend,
        campaign_months.leads,
        campaign_months.mqls,
        campaign_months.new_customers,
        campaign_months.attributed_revenue
    from campaign_months
    cross join campaign_count
    left join campaigns
        on campaign_months.campaign_id = campaigns.campaign_id
    where
        campaigns.campaign_id is not null
        or (campaign_months.campaign_id is null and campaign_count.campaigns > 0)
)

select * from final
