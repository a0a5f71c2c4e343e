{#-
    One row per customer (an account with a won opportunity or an active subscription month, in
    staging): the segments the retention KPIs are cut by, its region and its acquisition channel
    (the channel of its first-touch campaign), and its acquisition cohort.
-#}
with

accounts as (
    select
        account_id,
        region
    from {{ ref('stg_crm__accounts') }}
),

acquired_accounts as (
    select * from {{ ref('int_accounts_acquired') }}
),

campaigns as (
    select
        campaign_id,
        channel
    from {{ ref('stg_crm__campaigns') }}
),

subscription_cohorts as (
    select
        account_id,
        min(cohort_month) as subscription_cohort_month
    from {{ ref('int_subscription_months') }}
    group by account_id
),

customers as (
    select account_id from acquired_accounts
    union
    select account_id from subscription_cohorts
),

final as (
    select
        customers.account_id,
        accounts.region,
        coalesce(campaigns.channel, 'unattributed') as acquisition_channel,
        campaigns.campaign_id as acquisition_campaign_id,
        acquired_accounts.first_won_on,
        coalesce(acquired_accounts.acquisition_month, subscription_cohorts.subscription_cohort_month) as acquisition_month,
        subscription_cohorts.subscription_cohort_month,
        acquired_accounts.account_id is not null as is_won_customer
    from customers
    inner join accounts
        on customers.account_id = accounts.account_id
    left join acquired_accounts
        on customers.account_id = acquired_accounts.account_id
    left join campaigns
        on acquired_accounts.attributed_campaign_id = campaigns.campaign_id
    left join subscription_cohorts
        on customers.account_id = subscription_cohorts.account_id
)

select * from final
