{%- set measures = {
    'existing_customers': 'count(*)',
    'upsell_customers': 'sum(is_upsell)',
    'cross_sell_customers': 'sum(is_cross_sell)',
} -%}

with

{# What an account bought and when: won deals' line items (close date), subscriptions (start), won deals. -#}
purchases as (
    select * from {{ ref('int_account_purchases') }}
),

line_items as (
    select * from {{ ref('int_line_items_priced') }}
),

accounts as (
    select * from {{ ref('dim_accounts') }}
),

periods as (
    select * from {{ ref('int_periods_spined') }}
    where period_type in ('month', 'quarter')
),

members as (
    select * from {{ ref('int_breakdown_members') }}
),

standing as (
    select * from {{ ref('int_breakdown_periods_spined') }}
),

customers_since as (
    select
        account_id,
        min(acquired_on) as customer_since
    from purchases
    group by account_id
),

{# Existing customers of a period: a won deal or a subscription start before the period began. -#}
existing_customers as (
    select
        periods.period_type,
        periods.period_start,
        customers_since.account_id
    from periods
    inner join customers_since
        on periods.period_start > customers_since.customer_since
),

bought_in_period as (
    select distinct
        periods.period_type,
        periods.period_start,
        purchases.account_id,
        purchases.product_family,
        purchases.product_tier
    from purchases
    inner join periods
        on
            purchases.acquired_on >= periods.period_start
            and purchases.acquired_on <= periods.period_end
    where purchases.purchase_type = 'line_item'
),

bought_against_owned as (
    select
        bought_in_period.period_type,
        bought_in_period.period_start,
        bought_in_period.account_id,
        bought_in_period.product_family,
        bought_in_period.product_tier,
        max(purchases.product_tier) as owned_tier
    from bought_in_period
    left join purchases
        on
            bought_in_period.account_id = purchases.account_id
            and bought_in_period.product_family = purchases.product_family
            and bought_in_period.period_start > purchases.acquired_on
    group by
        bought_in_period.period_type,
        bought_in_period.period_start,
        bought_in_period.account_id,
        bought_in_period.product_family,
        bought_in_period.product_tier
),

account_periods as (
    select
        existing_customers.period_type,
        existing_customers.period_start,
        existing_customers.account_id,
        coalesce(accounts.owner_user_id, 'unassigned') as owner_user_id,
        max(case when bought_against_owned.product_tier > bought_against_owned.owned_tier then 1 else 0 end) as is_upsell,
        max(
            case when bought_against_owned.product_family is not null and bought_against_owned.owned_tier is null then 1 else 0 end
        ) as is_cross_sell
    from existing_customers
    left join bought_against_owned
        on
            existing_customers.period_type = bought_against_owned.period_type
            and existing_customers.period_start = bought_against_owned.period_start
            and existing_customers.account_id = bought_against_owned.account_id
    left join accounts
        on existing_customers.account_id = accounts.account_id
    group by
        existing_customers.period_type,
        existing_customers.period_start,
        existing_customers.account_id,
        coalesce(accounts.owner_user_id, 'unassigned')
),

measured as (
    {{ crm_kpi.rollup_to_breakdowns('account_periods', {'company': "'all'", 'rep': 'owner_user_id'}, measures) }}
),

names as (
    select * from members
    union all
    select
        'rep' as breakdown,
        'unassigned' as breakdown_id,
        'Unassigned' as breakdown_name
),

{# Zero rows: the company, and every closer while employed, in every period. -#}
breakdown_rows as (
    {{ crm_kpi.with_standing_rows('measured', 'standing', 'names', measures.keys() | list, ['company', 'rep']) }}
),

{# No line items in the export: what a customer bought is unknown (an empty mart, not zeros). -#}
source_presence as (
    select count(*) as line_item_rows from line_items
),

final as (
    select
        breakdown_rows.period_type,
        breakdown_rows.period_start,
        breakdown_rows.period_end,
        breakdown_rows.breakdown,
        breakdown_rows.breakdown_id,
        breakdown_rows.breakdown_name,
        cast(coalesce(breakdown_rows.existing_customers, 0) as {{ dbt.type_bigint() }}) as existing_customers,
        cast(coalesce(breakdown_rows.upsell_customers, 0) as {{ dbt.type_bigint() }}) as upsell_customers,
        cast(coalesce(breakdown_rows.cross_sell_customers, 0) as {{ dbt.type_bigint() }}) as cross_sell_customers,
        {{ crm_kpi.safe_divide('coalesce(breakdown_rows.upsell_customers, 0)', 'breakdown_rows.existing_customers') }} as upsell_rate,
        {{ crm_kpi.safe_divide('coalesce(breakdown_rows.cross_sell_customers, 0)', 'breakdown_rows.existing_customers') }} as cross_sell_rate
    from breakdown_rows
    cross join source_presence
    where source_presence.line_item_rows > 0
)

select * from final
