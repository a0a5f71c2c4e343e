{#-
    What each account bought and when: every line item of a deal won by the as-of date (its product's
    family and tier, on the close date), every subscription period (its product's family and tier when
    the product is known, from the period's start), and every won deal itself (no product, on the close date: a
    won deal without line items still makes a customer).
-#}
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
    select * from {{ ref('stg_crm__products') }}
),

won_deals as (
    select * from opportunities
    where is_won_by_as_of
),

final as (
    select
        won_deals.account_id,
        'line_item' as purchase_type,
        line_items.line_item_id as purchase_id,
        line_items.family as product_family,
        line_items.tier as product_tier,
        won_deals.close_date as acquired_on
    from line_items
    inner join won_deals
        on line_items.opportunity_id = won_deals.opportunity_id
    union all
    select
        subscriptions.account_id,
        'subscription' as purchase_type,
        subscriptions.subscription_id as purchase_id,
        products.family as product_family,
        products.tier as product_tier,
        subscriptions.period_start as acquired_on
    from subscriptions
    left join products
        on subscriptions.product_id = products.product_id
    union all
    select
        account_id,
        'deal' as purchase_type,
        opportunity_id as purchase_id,
        null as product_family,
        null as product_tier,
        close_date as acquired_on
    from won_deals
)

select * from final
