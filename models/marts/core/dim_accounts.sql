with

accounts as (
    select * from {{ ref('stg_crm__accounts') }}
),

acquired_accounts as (
    select * from {{ ref('int_accounts_acquired') }}
),

subscription_cohorts as (
    select distinct
        account_id,
        cohort_month
    from {{ ref('int_subscription_months') }}
),

final as (
    select
        accounts.account_id,
        accounts.account_name,
        accounts.industry,
        accounts.employees,
        accounts.region,
        accounts.country,
        accounts.owner_user_id,
        accounts.created_at,
        acquired_accounts.first_won_opportunity_id,
        acquired_accounts.first_won_on,
        subscription_cohorts.cohort_month as subscription_cohort_month,
        (acquired_accounts.account_id is not null or subscription_cohorts.account_id is not null) as is_customer
    from accounts
    left join acquired_accounts
        on accounts.account_id = acquired_accounts.account_id
    left join subscription_cohorts
        on accounts.account_id = subscription_cohorts.account_id
)

select * from final
