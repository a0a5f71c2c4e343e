with

subscription_months as (
    select * from {{ ref('int_subscription_months') }}
),

starting_mrr as (
    select
        account_id,
        mrr as starting_mrr
    from subscription_months
    where months_since_start = 0
),

account_months as (
    select
        subscription_months.cohort_month,
        subscription_months.months_since_start,
        subscription_months.month_start,
        subscription_months.account_id,
        subscription_months.is_active,
        subscription_months.mrr,
        starting_mrr.starting_mrr,
        case
            when subscription_months.mrr < starting_mrr.starting_mrr then subscription_months.mrr
            else starting_mrr.starting_mrr
        end as retained_mrr
    from subscription_months
    inner join starting_mrr
        on subscription_months.account_id = starting_mrr.account_id
),

cohort_months as (
    select
        cohort_month,
        months_since_start,
        month_start,
        count(*) as cohort_size,
        sum(case when is_active then 1 else 0 end) as active_customers,
        sum(starting_mrr) as starting_mrr,
        sum(mrr) as mrr,
        sum(retained_mrr) as retained_mrr
    from account_months
    group by
        cohort_month,
        months_since_start,
        month_start
),

final as (
    select
        cohort_month,
        cast(months_since_start as integer) as months_since_start,
        month_start as month,
        cast(cohort_size as {{ dbt.type_bigint() }}) as cohort_size,
        cast(active_customers as {{ dbt.type_bigint() }}) as active_customers,
        cast(cohort_size - active_customers as {{ dbt.type_bigint() }}) as churned_customers,
        {{ crm_kpi.safe_divide('active_customers', 'cohort_size') }} as logo_retention,
        {{ crm_kpi.safe_divide('cohort_size - active_customers', 'cohort_size') }} as logo_churn,
        {{ crm_kpi.money('starting_mrr') }} as starting_mrr,
        {{ crm_kpi.money('mrr') }} as mrr,
        {{ crm_kpi.money('retained_mrr') }} as retained_mrr,
        {{ crm_kpi.safe_divide(crm_kpi.money('retained_mrr'), crm_kpi.money('starting_mrr')) }} as gross_revenue_retention,
        {{ crm_kpi.safe_divide(crm_kpi.money('mrr'), crm_kpi.money('starting_mrr')) }} as net_revenue_retention
    from cohort_months
)

select * from final
