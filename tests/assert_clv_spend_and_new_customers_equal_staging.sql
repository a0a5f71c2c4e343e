{#-
    Reconciliation (C6): per cohort month, the spend of the all-channel rows of
    kpi_customer_lifetime_value equals the staged spend of staged campaigns in the month (on or before the
    as-of date), the channel rows sum to it, and the new customers (all channels) equal the accounts in
    staging won for the first time that month (int_accounts_acquired). To the cent: a spend row's
    amount is rounded to the cent once (fct_campaign_spend.amount) and every total sums those.
-#}
with

as_of_dates as (
    select * from {{ ref('int_as_of_dates') }}
),

staging_spend as (
    select
        {{ crm_kpi.month_of('spend.spend_date') }} as cohort_month,
        sum({{ crm_kpi.money('spend.amount') }}) as spend
    from {{ ref('stg_crm__campaign_spend') }} as spend
    inner join {{ ref('stg_crm__campaigns') }} as campaigns
        on spend.campaign_id = campaigns.campaign_id
    cross join as_of_dates
    where spend.spend_date <= as_of_dates.as_of_date
    group by {{ crm_kpi.month_of('spend.spend_date') }}
),

staging_customers as (
    select
        acquired.acquisition_month as cohort_month,
        count(*) as new_customers
    from {{ ref('int_accounts_acquired') }} as acquired
    inner join {{ ref('stg_crm__accounts') }} as staged_accounts
        on acquired.account_id = staged_accounts.account_id
    group by acquired.acquisition_month
),

mart_all as (
    select
        cohort_month,
        spend,
        new_customers
    from {{ ref('kpi_customer_lifetime_value') }}
    where acquisition_channel = 'all'
),

mart_channels as (
    select
        cohort_month,
        coalesce(sum(spend), 0) as spend,
        sum(new_customers) as new_customers
    from {{ ref('kpi_customer_lifetime_value') }}
    where acquisition_channel <> 'all'
    group by cohort_month
),

months as (
    select cohort_month from staging_spend
    union
    select cohort_month from staging_customers
    union
    select cohort_month from mart_all
),

{# Each month's three sides: staging, the all-channel row, the channel rows' sum. -#}
compared as (
    select
        months.cohort_month,
        coalesce(staging_spend.spend, 0) as staging_spend,
        coalesce(mart_all.spend, 0) as mart_spend,
        coalesce(mart_channels.spend, 0) as channel_spend,
        coalesce(staging_customers.new_customers, 0) as staging_new_customers,
        coalesce(mart_all.new_customers, 0) as mart_new_customers,
        coalesce(mart_channels.new_customers, 0) as channel_new_customers
    from months
    left join staging_spend
        on months.cohort_month = staging_spend.cohort_month
    left join staging_customers
        on months.cohort_month = staging_customers.cohort_month
    left join mart_all
        on months.cohort_month = mart_all.cohort_month
    left join mart_channels
        on months.cohort_month = mart_channels.cohort_month
)

select * from compared
where
    abs(staging_spend - mart_spend) > 0.001
    or abs(mart_spend - channel_spend) > 0.001
    or staging_new_customers <> mart_new_customers
    or mart_new_customers <> channel_new_customers
