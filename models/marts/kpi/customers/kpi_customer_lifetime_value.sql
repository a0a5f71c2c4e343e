with

account_months as (
    select * from {{ ref('int_subscription_months') }}
),

customers as (
    select * from {{ ref('int_customers_segmented') }}
),

invoices as (
    select * from {{ ref('int_invoices_recognised') }}
),

channel_cohorts as (
    select * from {{ ref('int_channel_cohorts_costed') }}
),

as_of_dates as (
    select * from {{ ref('int_as_of_dates') }}
),

trailing_window as (
    select
        cast({{ dbt.dateadd('month', 1 - var('clv_trailing_months') | int, 'as_of_month') }} as date) as window_start,
        as_of_month as window_end
    from as_of_dates
),

window_months as (
    select
        customers.acquisition_channel,
        customers.acquisition_month as cohort_month,
        current_months.account_id,
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
        sum(was_active) as customer_months_at_start,
        sum(case when was_active = 1 and is_active = 0 then 1 else 0 end) as churned_customers,
        sum(is_active) as active_account_months
    from window_months
    group by
        acquisition_channel,
        cohort_month
),

cohort_revenue as (
    select
        customers.acquisition_channel,
        customers.acquisition_month as cohort_month,
        sum(invoices.recognised_amount) as recognised_revenue,
        sum(coalesce(invoices.recognised_amount * invoices.gross_margin, 0)) as gross_profit
    from invoices
    inner join customers
        on invoices.account_id = customers.account_id
    cross join trailing_window
    where
        invoices.invoice_month >= trailing_window.window_start
        and invoices.invoice_month <= trailing_window.window_end
    group by
        customers.acquisition_channel,
        customers.acquisition_month
),

cohort_sizes as (
    select
        acquisition_channel,
        acquisition_month as cohort_month,
        count(*) as cohort_customers
    from customers
    group by
        acquisition_channel,
        acquisition_month
),

cohort_keys as (
    select
        acquisition_channel,
        cohort_month
    from channel_cohorts
    union
    select
        acquisition_channel,
        cohort_month
    from cohort_sizes
),

channel_measures as (
    select
        cohort_keys.acquisition_channel,
        cohort_keys.cohort_month,
        coalesce(cohort_sizes.cohort_customers, 0) as cohort_customers,
        coalesce(channel_cohorts.new_customers, 0) as new_customers,
        case
            when cohort_keys.acquisition_channel <> 'unattributed' then coalesce(channel_cohorts.spend, 0)
        end as spend,
        coalesce(cohort_churn.active_account_months, 0) as active_account_months,
        coalesce(cohort_revenue.recognised_revenue, 0) as recognised_revenue,
        coalesce(cohort_revenue.gross_profit, 0) as gross_profit,
        coalesce(cohort_churn.customer_months_at_start, 0) as customer_months_at_start,
        coalesce(cohort_churn.churned_customers, 0) as churned_customers
    from cohort_keys
    left join channel_cohorts
        on
            cohort_keys.acquisition_channel = channel_cohorts.acquisition_channel
            and cohort_keys.cohort_month = channel_cohorts.cohort_month
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
),

all_channel_measures as (
    select
        'all' as acquisition_channel,
        cohort_month,
        sum(cohort_customers) as cohort_customers,
        sum(new_customers) as new_customers,
        coalesce(sum(spend), 0) as spend,
        sum(active_account_months) as active_account_months,
        sum(recognised_revenue) as recognised_revenue,
        sum(gross_profit) as gross_profit,
        sum(customer_months_at_start) as customer_months_at_start,
        sum(churned_customers) as churned_customers
    from channel_measures
    group by cohort_month
),

measures as (
    select * from channel_measures
    union all
    select * from all_channel_measures
),

rounded as (
    select
        acquisition_channel,
        cohort_month,
        cast(cohort_customers as {{ dbt.type_bigint() }}) as cohort_customers,
        cast(new_customers as {{ dbt.type_bigint() }}) as new_customers,
        {{ crm_kpi.money('spend') }} as spend,
        cast(active_account_months as {{ dbt.type_bigint() }}) as active_account_months,
        {{ crm_kpi.money('recognised_revenue') }} as recognised_revenue,
        {{ crm_kpi.money('gross_profit') }} as gross_profit,
        cast(customer_months_at_start as {{ dbt.type_bigint() }}) as customer_months_at_start,
        cast(churned_customers as {{ dbt.type_bigint() }}) as churned_customers
    from measures
),

ratios as (
    select
        *,
        {{ crm_kpi.safe_divide('spend', 'new_customers') }} as cac,
        {{ crm_kpi.safe_divide('recognised_revenue', 'active_account_months') }} as arpa,
        {{ crm_kpi.safe_divide('gross_profit', 'recognised_revenue') }} as gross_margin,
        {{ crm_kpi.safe_divide('churned_customers', 'customer_months_at_start') }} as monthly_churn_rate
    from rounded
),

lifetime_values as (
    select
        *,
        {{ crm_kpi.safe_divide('gross_profit', 'active_account_months * monthly_churn_rate') }} as gross_clv
    from ratios
),

final as (
    select
        acquisition_channel,
        cohort_month,
        cohort_customers,
        new_customers,
        spend,
        cac,
        active_account_months,
        recognised_revenue,
        arpa,
        gross_profit,
        gross_margin,
        customer_months_at_start,
        churned_customers,
        monthly_churn_rate,
        gross_clv,
        gross_clv - cac as net_clv,
        {{ crm_kpi.safe_divide('gross_clv', 'cac') }} as clv_to_cac
    from lifetime_values
)

select * from final
