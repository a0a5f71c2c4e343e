with

cohorts as (
    select * from {{ ref('int_acquisition_cohorts_measured') }}
),

all_channels as (
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
    from cohorts
    group by cohort_month
),

measures as (
    select
        acquisition_channel,
        cohort_month,
        cohort_customers,
        new_customers,
        spend,
        active_account_months,
        recognised_revenue,
        gross_profit,
        customer_months_at_start,
        churned_customers
    from cohorts
    union all
    select * from all_channels
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
