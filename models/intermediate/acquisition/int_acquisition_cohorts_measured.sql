{#-
    One row per acquisition channel and cohort month with the additive measures behind C6 (no ratios):
    the first-touch acquisition cost (spend of the channel's campaigns in the month, customers won that
    month through a campaign of the channel), and, over the trailing window, the cohort's active
    account-months, customers at the start of each month and customers lost, recognised revenue and its
    gross profit. kpi_customer_lifetime_value computes CAC, ARPA, margin, churn and CLV from these sums.
-#}
with

customers as (
    select * from {{ ref('int_customers_segmented') }}
),

account_months as (
    select * from {{ ref('int_subscription_months') }}
),

revenue_entries as (
    select * from {{ ref('int_revenue_entries_booked') }}
),

campaigns as (
    select
        campaign_id,
        channel
    from {{ ref('stg_crm__campaigns') }}
),

spend as (
    select * from {{ ref('stg_crm__campaign_spend') }}
),

as_of_dates as (
    select * from {{ ref('int_as_of_dates') }}
),

trailing_window as (
    select
        cast({{ dbt.dateadd('month', 1 - crm_kpi.checked_var('clv_trailing_months'), 'as_of_month') }} as date) as window_start,
        as_of_month as window_end
    from as_of_dates
),

{# A spend row's amount is rounded to the cent once, as fct_campaign_spend holds it; every total is a sum of those. -#}
channel_spend as (
    select
        campaigns.channel as acquisition_channel,
        {{ crm_kpi.month_of('spend.spend_date') }} as cohort_month,
        cast(sum({{ crm_kpi.money('spend.amount') }}) as {{ crm_kpi.type_double() }}) as spend
    from spend
    inner join campaigns
        on spend.campaign_id = campaigns.campaign_id
    cross join as_of_dates
    where spend.spend_date <= as_of_dates.as_of_date
    group by
        campaigns.channel,
        {{ crm_kpi.month_of('spend.spend_date') }}
),

cohort_sizes as (
    select
        acquisition_channel,
        acquisition_month as cohort_month,
        count(*) as cohort_customers,
        sum(case when is_won_customer then 1 else 0 end) as new_customers
    from customers
    group by
        acquisition_channel,
        acquisition_month
),

window_months as (
    select
        customers.acquisition_channel,
        customers.acquisition_month as cohort_month,
        case when current_months.is_active then 1 else 0 end as is_active,
        case when previous_months.is_active then 1 else 0 end as was_active
    from account_months as current_months
    inner join customers
        on current_months.account_id = customers.account_id
    cross join trailing_window
    left join account_months as previous_months
        on
            current_months.account_id = previous_months.account_id
            and cast({{ dbt.dateadd('month', -1, 'current_months.month_start') }} as date) = previous_months.month_start
    where
        current_months.month_start >= trailing_window.window_start
        and current_months.month_start <= trailing_window.window_end
),

cohort_churn as (
    select
        acquisition_channel,
        cohort_month,
        sum(is_active) as active_account_months,
        sum(was_active) as customer_months_at_start,
        sum(case when was_active = 1 and is_active = 0 then 1 else 0 end) as churned_customers
    from window_months
    group by
        acquisition_channel,
        cohort_month
),

cohort_revenue as (
    select
        customers.acquisition_channel,
        customers.acquisition_month as cohort_month,
        sum(revenue_entries.recognised_amount) as recognised_revenue,
        sum(coalesce(revenue_entries.recognised_amount * revenue_entries.gross_margin, 0)) as gross_profit
    from revenue_entries
    inner join customers
        on revenue_entries.account_id = customers.account_id
    cross join trailing_window
    where
        revenue_entries.booked_month >= trailing_window.window_start
        and revenue_entries.booked_month <= trailing_window.window_end
    group by
        customers.acquisition_channel,
        customers.acquisition_month
),

cohort_keys as (
    select
        acquisition_channel,
        cohort_month
    from channel_spend
    union
    select
        acquisition_channel,
        cohort_month
    from cohort_sizes
),

final as (
    select
        cohort_keys.acquisition_channel,
        cohort_keys.cohort_month,
        coalesce(cohort_sizes.cohort_customers, 0) as cohort_customers,
        coalesce(cohort_sizes.new_customers, 0) as new_customers,
        case
            when cohort_keys.acquisition_channel <> 'unattributed' then coalesce(channel_spend.spend, 0)
        end as spend,
        coalesce(cohort_churn.active_account_months, 0) as active_account_months,
        cast(coalesce(cohort_revenue.recognised_revenue, 0) as decimal(18, 2)) as recognised_revenue,
        coalesce(cohort_revenue.gross_profit, 0) as gross_profit,
        coalesce(cohort_churn.customer_months_at_start, 0) as customer_months_at_start,
        coalesce(cohort_churn.churned_customers, 0) as churned_customers
    from cohort_keys
    left join channel_spend
        on
            cohort_keys.acquisition_channel = channel_spend.acquisition_channel
            and cohort_keys.cohort_month = channel_spend.cohort_month
    left join cohort_sizes
        on
            cohort_keys.acquisition_channel = cohort_sizes.acquisition_channel
            and cohort_keys.cohort_month = cohort_sizes.cohort_month
    left join cohort_churn
        on
            cohort_keys.acquisition_channel = cohort_churn.acquisition_channel
            and cohort_keys.cohort_month = cohort_churn.cohort_month
    left join cohort_revenue
        on
            cohort_keys.acquisition_channel = cohort_revenue.acquisition_channel
            and cohort_keys.cohort_month = cohort_revenue.cohort_month
)

select * from final
