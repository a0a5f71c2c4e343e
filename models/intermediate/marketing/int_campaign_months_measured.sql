{#-
    One row per campaign and month with the additive measures behind CAC (no ratios): spend, attributed
    leads created, attributed leads reaching MQL, attributed new customers and attributed won revenue.
    Months: the campaign's running months (start to end or the as-of month) and any month with a
    measure. Ratios are computed in the marts from these sums (macro cac_ratios).
-#}
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

acquired_accounts as (
    select * from {{ ref('int_accounts_acquired') }}
),

opportunities as (
    select * from {{ ref('int_opportunities_classified') }}
),

months as (
    select * from {{ ref('int_months_spined') }}
),

as_of_dates as (
    select * from {{ ref('int_as_of_dates') }}
),

spend_by_month as (
    select
        spend.campaign_id,
        {{ crm_kpi.month_of('spend.spend_date') }} as month_start,
        sum(spend.amount) as spend
    from spend
    cross join as_of_dates
    where spend.spend_date <= as_of_dates.as_of_date
    group by 1, 2
),

campaign_leads as (
    select
        attributed_leads.attributed_campaign_id as campaign_id,
        leads.lead_id,
        leads.cohort_month,
        leads.mql_at
    from leads
    inner join attributed_leads
        on leads.lead_id = attributed_leads.lead_id
    where attributed_leads.attributed_campaign_id is not null
),

leads_by_month as (
    select
        campaign_id,
        cohort_month as month_start,
        count(*) as leads
    from campaign_leads
    group by 1, 2
),

mqls_by_month as (
    select
        campaign_id,
        {{ crm_kpi.month_of('mql_at') }} as month_start,
        count(*) as mqls
    from campaign_leads
    where mql_at is not null
    group by 1, 2
),

customers_by_month as (
    select
        attributed_campaign_id as campaign_id,
        acquisition_month as month_start,
        count(*) as new_customers
    from acquired_accounts
    where attributed_campaign_id is not null
    group by 1, 2
),

revenue_by_month as (
    select
        campaign_leads.campaign_id,
        opportunities.close_month as month_start,
        sum(opportunities.amount) as attributed_revenue
    from opportunities
    inner join campaign_leads
        on opportunities.source_lead_id = campaign_leads.lead_id
    where opportunities.is_won_by_as_of
    group by 1, 2
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

campaign_months as (
    select
        campaign_id,
        month_start
    from running_months
    union
    select
        campaign_id,
        month_start
    from spend_by_month
    union
    select
        campaign_id,
        month_start
    from leads_by_month
    union
    select
        campaign_id,
        month_start
    from mqls_by_month
    union
    select
        campaign_id,
        month_start
    from customers_by_month
    union
    select
        campaign_id,
        month_start
    from revenue_by_month
),

final as (
    select
        campaign_months.campaign_id,
        campaign_months.month_start,
        campaigns.campaign_name,
        campaigns.channel,
        'first_touch' as attribution_rule,
        coalesce(spend_by_month.spend, 0) as spend,
        coalesce(leads_by_month.leads, 0) as leads,
        coalesce(mqls_by_month.mqls, 0) as mqls,
        coalesce(customers_by_month.new_customers, 0) as new_customers,
        coalesce(revenue_by_month.attributed_revenue, 0) as attributed_revenue
    from campaign_months
    inner join campaigns
        on campaign_months.campaign_id = campaigns.campaign_id
    left join spend_by_month
        on
            campaign_months.campaign_id = spend_by_month.campaign_id
            and campaign_months.month_start = spend_by_month.month_start
    left join leads_by_month
        on
            campaign_months.campaign_id = leads_by_month.campaign_id
            and campaign_months.month_start = leads_by_month.month_start
    left join mqls_by_month
        on
            campaign_months.campaign_id = mqls_by_month.campaign_id
            and campaign_months.month_start = mqls_by_month.month_start
    left join customers_by_month
        on
            campaign_months.campaign_id = customers_by_month.campaign_id
            and campaign_months.month_start = customers_by_month.month_start
    left join revenue_by_month
        on
            campaign_months.campaign_id = revenue_by_month.campaign_id
            and campaign_months.month_start = revenue_by_month.month_start
)

select * from final
