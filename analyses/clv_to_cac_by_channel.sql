-- CLV:CAC per acquisition channel over every cohort, recomputed from the additive columns of
-- kpi_customer_lifetime_value (never an average of the cohorts' ratios): churn and ARPA over the
-- trailing window, first-touch CAC over all cohort months. Gross CLV is null when the channel lost no
-- customer in the window.
with

channels as (
    select
        acquisition_channel,
        sum(cohort_customers) as customers,
        sum(new_customers) as new_customers,
        sum(spend) as spend,
        sum(recognised_revenue) as recognised_revenue,
        sum(gross_profit) as gross_profit,
        sum(active_account_months) as active_account_months,
        sum(customer_months_at_start) as customer_months_at_start,
        sum(churned_customers) as churned_customers
    from {{ ref('kpi_customer_lifetime_value') }}
    group by acquisition_channel
),

ratios as (
    select
        *,
        {{ crm_kpi.safe_divide('spend', 'new_customers') }} as cac,
        {{ crm_kpi.safe_divide('recognised_revenue', 'active_account_months') }} as arpa,
        {{ crm_kpi.safe_divide('gross_profit', 'recognised_revenue') }} as gross_margin,
        {{ crm_kpi.safe_divide('churned_customers', 'customer_months_at_start') }} as monthly_churn_rate,
        {{ crm_kpi.safe_divide('gross_profit', 'active_account_months * ' ~ crm_kpi.safe_divide('churned_customers', 'customer_months_at_start')) }} as gross_clv
    from channels
)

select
    *,
    {{ crm_kpi.safe_divide('gross_clv', 'cac') }} as clv_to_cac
from ratios
order by clv_to_cac desc nulls last
