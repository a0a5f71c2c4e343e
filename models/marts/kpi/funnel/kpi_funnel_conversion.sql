with

leads as (
    select * from {{ ref('int_leads_lifecycle') }}
),

months as (
    select month_start from {{ ref('int_months_spined') }}
),

channels as (
    select distinct channel from leads
),

cohort_months as (
    select months.month_start as cohort_month
    from months
    where months.month_start >= (select min(leads.cohort_month) from leads)
),

cohort_grid as (
    select
        cohort_months.cohort_month,
        channels.channel
    from cohort_months
    cross join channels
),

cohort_counts as (
    select
        cohort_month,
        channel,
        count(*) as leads,
        count(mql_at) as mqls,
        count(sql_at) as sqls,
        count(opportunity_at) as opportunities,
        count(won_on) as customers,
        {{ crm_kpi.median(crm_kpi.days_between('created_at', 'mql_at')) }} as median_days_to_mql,
        {{ crm_kpi.median(crm_kpi.days_between('mql_at', 'sql_at')) }} as median_days_mql_to_sql,
        {{ crm_kpi.median(crm_kpi.days_between('sql_at', 'opportunity_at')) }} as median_days_sql_to_opportunity,
        {{ crm_kpi.median(dbt.datediff('cast(opportunity_at as date)', 'won_on', 'day')) }} as median_days_opportunity_to_won
    from leads
    group by
        cohort_month,
        channel
),

cohorts as (
    select
        cohort_grid.cohort_month,
        cohort_grid.channel,
        coalesce(cohort_counts.leads, 0) as leads,
        coalesce(cohort_counts.mqls, 0) as mqls,
        coalesce(cohort_counts.sqls, 0) as sqls,
        coalesce(cohort_counts.opportunities, 0) as opportunities,
        coalesce(cohort_counts.customers, 0) as customers,
        cohort_counts.median_days_to_mql,
        cohort_counts.median_days_mql_to_sql,
        cohort_counts.median_days_sql_to_opportunity,
        cohort_counts.median_days_opportunity_to_won
    from cohort_grid
    left join cohort_counts
        on
            cohort_grid.cohort_month = cohort_counts.cohort_month
            and cohort_grid.channel = cohort_counts.channel
),

with_previous_month as (
    select
        cohorts.*,
        coalesce(
            lag(cohorts.leads) over (partition by cohorts.channel order by cohorts.cohort_month),
            0
        ) as leads_previous_month
    from cohorts
),

final as (
    select
        cohort_month,
        channel,
        cast(leads as {{ dbt.type_bigint() }}) as leads,
        cast(mqls as {{ dbt.type_bigint() }}) as mqls,
        cast(sqls as {{ dbt.type_bigint() }}) as sqls,
        cast(opportunities as {{ dbt.type_bigint() }}) as opportunities,
        cast(customers as {{ dbt.type_bigint() }}) as customers,
        {{ crm_kpi.safe_divide('mqls', 'leads') }} as mql_rate,
        {{ crm_kpi.safe_divide('sqls', 'mqls') }} as sql_rate,
        {{ crm_kpi.safe_divide('opportunities', 'sqls') }} as opportunity_rate,
        {{ crm_kpi.safe_divide('customers', 'opportunities') }} as win_rate,
        {{ crm_kpi.safe_divide('customers', 'leads') }} as lead_to_customer_rate,
        {{ crm_kpi.safe_divide('customers', 'mqls') }} as mql_to_customer_rate,
        cast(median_days_to_mql as {{ crm_kpi.type_double() }}) as median_days_to_mql,
        cast(median_days_mql_to_sql as {{ crm_kpi.type_double() }}) as median_days_mql_to_sql,
        cast(median_days_sql_to_opportunity as {{ crm_kpi.type_double() }}) as median_days_sql_to_opportunity,
        cast(median_days_opportunity_to_won as {{ crm_kpi.type_double() }}) as median_days_opportunity_to_won,
        cast(leads_previous_month as {{ dbt.type_bigint() }}) as leads_previous_month,
        {{ crm_kpi.safe_divide('leads - leads_previous_month', 'leads_previous_month') }} as leads_growth_rate
    from with_previous_month
)

select * from final
