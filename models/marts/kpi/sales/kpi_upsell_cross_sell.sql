with

line_items as (
    select * from {{ ref('int_line_items_priced') }}
),

opportunities as (
    select * from {{ ref('int_opportunities_credited') }}
),

subscriptions as (
    select * from {{ ref('stg_crm__subscriptions') }}
),

products as (
    select * from {{ ref('dim_products') }}
),

accounts as (
    select * from {{ ref('dim_accounts') }}
),

all_periods as (
    select * from {{ ref('int_periods_spined') }}
),

users as (
    select * from {{ ref('dim_reps') }}
),

periods as (
    select * from all_periods
    where period_type in ('month', 'quarter')
),

won_deals as (
    select * from opportunities
    where is_won_by_as_of
),

{# What an account bought and when: the products on its won deals (close date) and its subscriptions (start). -#}
purchases as (
    select
        won_deals.account_id,
        line_items.family,
        line_items.tier,
        won_deals.close_date as acquired_on
    from line_items
    inner join won_deals
        on line_items.opportunity_id = won_deals.opportunity_id
    union all
    select
        subscriptions.account_id,
        products.family,
        products.tier,
        subscriptions.period_start as acquired_on
    from subscriptions
    inner join products
        on subscriptions.product_id = products.product_id
),

customers_since as (
    select
        account_id,
        min(acquired_on) as customer_since
    from (
        select
            account_id,
            close_date as acquired_on
        from won_deals
        union all
        select
            account_id,
            period_start as acquired_on
        from subscriptions
    ) as acquisitions
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
        won_deals.account_id,
        line_items.family,
        line_items.tier
    from line_items
    inner join won_deals
        on line_items.opportunity_id = won_deals.opportunity_id
    inner join periods
        on
            won_deals.close_date >= periods.period_start
            and won_deals.close_date <= periods.period_end
),

bought_against_owned as (
    select
        bought_in_period.period_type,
        bought_in_period.period_start,
        bought_in_period.account_id,
        bought_in_period.family,
        bought_in_period.tier,
        max(purchases.tier) as owned_tier
    from bought_in_period
    left join purchases
        on
            bought_in_period.account_id = purchases.account_id
            and bought_in_period.family = purchases.family
            and bought_in_period.period_start > purchases.acquired_on
    group by
        bought_in_period.period_type,
        bought_in_period.period_start,
        bought_in_period.account_id,
        bought_in_period.family,
        bought_in_period.tier
),

account_periods as (
    select
        existing_customers.period_type,
        existing_customers.period_start,
        existing_customers.account_id,
        coalesce(accounts.owner_user_id, 'unassigned') as owner_user_id,
        max(case when bought_against_owned.tier > bought_against_owned.owned_tier then 1 else 0 end) as is_upsell,
        max(
            case when bought_against_owned.family is not null and bought_against_owned.owned_tier is null then 1 else 0 end
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
    {%- for breakdown, key in [('company', "'all'"), ('rep', 'owner_user_id')] %}
    select
        period_type,
        period_start,
        '{{ breakdown }}' as breakdown,
        {{ key }} as breakdown_id,
        count(*) as existing_customers,
        sum(is_upsell) as upsell_customers,
        sum(is_cross_sell) as cross_sell_customers
    from account_periods
    group by
        period_type,
        period_start{% if key != "'all'" %},
        {{ key }}{% endif %}
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
),

{# Zero rows: the company, and every closer while employed, in every period. -#}
spine as (
    select
        period_type,
        period_start,
        'company' as breakdown,
        'all' as breakdown_id
    from periods
    union
    select
        periods.period_type,
        periods.period_start,
        'rep' as breakdown,
        users.user_id as breakdown_id
    from periods
    inner join users
        on
            users.is_closer
            and periods.period_end >= users.hired_on
            and (periods.period_start <= users.left_on or users.left_on is null)
    union
    select
        period_type,
        period_start,
        breakdown,
        breakdown_id
    from measured
),

{# No line items in the export: what a customer bought is unknown (an empty mart, not zeros). -#}
source_presence as (
    select count(*) as line_item_rows from line_items
),

final as (
    select
        spine.period_type,
        spine.period_start,
        periods.period_end,
        spine.breakdown,
        spine.breakdown_id,
        case
            when spine.breakdown = 'company' then 'Company'
            when spine.breakdown_id = 'unassigned' then 'Unassigned'
            else users.full_name
        end as breakdown_name,
        cast(coalesce(measured.existing_customers, 0) as {{ dbt.type_bigint() }}) as existing_customers,
        cast(coalesce(measured.upsell_customers, 0) as {{ dbt.type_bigint() }}) as upsell_customers,
        cast(coalesce(measured.cross_sell_customers, 0) as {{ dbt.type_bigint() }}) as cross_sell_customers,
        {{ crm_kpi.safe_divide('coalesce(measured.upsell_customers, 0)', 'measured.existing_customers') }} as upsell_rate,
        {{ crm_kpi.safe_divide('coalesce(measured.cross_sell_customers, 0)', 'measured.existing_customers') }} as cross_sell_rate
    from spine
    inner join periods
        on
            spine.period_type = periods.period_type
            and spine.period_start = periods.period_start
    left join measured
        on
            spine.period_type = measured.period_type
            and spine.period_start = measured.period_start
            and spine.breakdown = measured.breakdown
            and spine.breakdown_id = measured.breakdown_id
    left join users
        on
            spine.breakdown = 'rep'
            and spine.breakdown_id = users.user_id
    cross join source_presence
    where source_presence.line_item_rows > 0
)

select * from final
