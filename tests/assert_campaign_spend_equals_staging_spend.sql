{#-
    Reconciliation (M1/M2): per campaign and attribution rule, the spend in the campaign mart and
    summed over the campaign x month mart equal the spend in staging (campaigns in staging, spend on
    or before the as-of date; the unattributed row has none), to the cent: a spend row's amount is
    rounded to the cent once (fct_campaign_spend.amount) and every total sums those, so the marts
    agree with each other and with the facts exactly, not within a rounding per row.
-#}
with

as_of_dates as (
    select * from {{ ref('int_as_of_dates') }}
),

staging_spend as (
    select
        spend.campaign_id,
        sum({{ crm_kpi.money('spend.amount') }}) as spend
    from {{ ref('stg_crm__campaign_spend') }} as spend
    inner join {{ ref('stg_crm__campaigns') }} as campaigns
        on spend.campaign_id = campaigns.campaign_id
    cross join as_of_dates
    where spend.spend_date <= as_of_dates.as_of_date
    group by 1
),

monthly_spend as (
    select
        campaign_id,
        attribution_rule,
        sum(spend) as spend
    from {{ ref('kpi_campaign_cac_monthly') }}
    group by 1, 2
),

campaign_spend as (
    select
        campaign_id,
        attribution_rule,
        spend
    from {{ ref('kpi_campaign_cac') }}
)

select
    campaign_spend.campaign_id,
    campaign_spend.attribution_rule,
    staging_spend.spend as staging_spend,
    campaign_spend.spend as campaign_mart_spend,
    monthly_spend.spend as monthly_mart_spend
from campaign_spend
left join staging_spend
    on campaign_spend.campaign_id = staging_spend.campaign_id
left join monthly_spend
    on
        campaign_spend.campaign_id = monthly_spend.campaign_id
        and campaign_spend.attribution_rule = monthly_spend.attribution_rule
where
    abs(coalesce(staging_spend.spend, 0) - campaign_spend.spend) > 0.001
    or abs(coalesce(staging_spend.spend, 0) - coalesce(monthly_spend.spend, 0)) > 0.001
