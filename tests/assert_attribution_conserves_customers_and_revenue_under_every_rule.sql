{#-
    Conservation of attribution (M1, M3), under every rule:
    - each won deal's credits sum to exactly 1 per rule, under each of the four rules (so a new
      customer, at its first won deal, is attributed at most once per rule);
    - the campaigns plus the unattributed row of kpi_campaign_cac sum to the totals: new customers =
      accounts acquired by the as-of date, attributed revenue = won revenue by the as-of date;
    - the same per month in kpi_campaign_cac_monthly (acquisition month, close month).
    Rounding allowed: new customers (fractional credits, rounded to 6 decimals on each mart row) to
    half a millionth per mart row, revenue to half a cent per mart row. An empty mart (no campaigns)
    has nothing to conserve.
-#}
with

deal_credits as (
    select
        opportunity_id,
        attribution_rule,
        sum(credit) as credit
    from {{ ref('int_won_deals_attributed') }}
    group by 1, 2
),

won_deals as (
    select
        opportunity_id,
        close_month,
        amount
    from {{ ref('int_opportunities_classified') }}
    where is_won_by_as_of
),

deal_rules as (
    select
        opportunity_id,
        count(*) as rules
    from deal_credits
    group by 1
),

acquired_by_month as (
    select
        acquisition_month as month_start,
        count(*) as new_customers
    from {{ ref('int_accounts_acquired') }}
    group by 1
),

revenue_by_month as (
    select
        close_month as month_start,
        sum(amount) as revenue
    from won_deals
    group by 1
),

total_customers as (
    select count(*) as new_customers from {{ ref('int_accounts_acquired') }}
),

total_revenue as (
    select coalesce(sum(amount), 0) as revenue from won_deals
),

mart_totals as (
    select
        attribution_rule,
        sum(new_customers) as new_customers,
        sum(attributed_revenue) as revenue,
        count(*) as mart_rows
    from {{ ref('kpi_campaign_cac') }}
    group by 1
),

monthly_totals as (
    select
        attribution_rule,
        month as month_start,
        sum(new_customers) as new_customers,
        sum(attributed_revenue) as revenue,
        count(*) as mart_rows
    from {{ ref('kpi_campaign_cac_monthly') }}
    group by 1, 2
),

monthly_rules as (
    select distinct attribution_rule from monthly_totals
),

conversion_months as (
    select month_start from acquired_by_month
    union
    select month_start from revenue_by_month
),

expected_months as (
    select
        monthly_rules.attribution_rule,
        conversion_months.month_start,
        coalesce(acquired_by_month.new_customers, 0) as new_customers,
        coalesce(revenue_by_month.revenue, 0) as revenue
    from monthly_rules
    cross join conversion_months
    left join acquired_by_month
        on conversion_months.month_start = acquired_by_month.month_start
    left join revenue_by_month
        on conversion_months.month_start = revenue_by_month.month_start
),

violations as (
    select
        'deal credits do not sum to 1' as failure,
        deal_credits.attribution_rule,
        deal_credits.opportunity_id as detail
    from deal_credits
    where abs(deal_credits.credit - 1) > 1e-9
    union all
    select
        'won deal not credited under every rule' as failure,
        cast(null as {{ dbt.type_string() }}) as attribution_rule,
        won_deals.opportunity_id as detail
    from won_deals
    left join deal_rules
        on won_deals.opportunity_id = deal_rules.opportunity_id
    where coalesce(deal_rules.rules, 0) <> 4
    union all
    select
        'campaign mart totals differ' as failure,
        mart_totals.attribution_rule,
        cast(mart_totals.new_customers as {{ dbt.type_string() }}) as detail
    from mart_totals
    cross join total_customers
    cross join total_revenue
    where
        abs(mart_totals.new_customers - total_customers.new_customers) > 0.0000005 * mart_totals.mart_rows + 1e-9
        or abs(mart_totals.revenue - total_revenue.revenue) > 0.005 * mart_totals.mart_rows + 1e-9
    union all
    select
        'monthly mart totals differ' as failure,
        expected_months.attribution_rule,
        cast(expected_months.month_start as {{ dbt.type_string() }}) as detail
    from expected_months
    left join monthly_totals
        on
            expected_months.attribution_rule = monthly_totals.attribution_rule
            and expected_months.month_start = monthly_totals.month_start
    where
        abs(coalesce(monthly_totals.new_customers, 0) - expected_months.new_customers)
        > 0.0000005 * coalesce(monthly_totals.mart_rows, 0) + 1e-9
        or abs(coalesce(monthly_totals.revenue, 0) - expected_months.revenue)
        > 0.005 * coalesce(monthly_totals.mart_rows, 0) + 1e-9
)

select * from violations
