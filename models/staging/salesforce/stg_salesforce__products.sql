{#- A product's list price: its entry in the price book of var salesforce_pricebook_id, else its first active one. -#}
with

products as (
    select * from {{ ref('base_salesforce__product2') }}
),

pricebook_entries as (
    select * from {{ ref('base_salesforce__pricebook_entry') }}
    where not {{ crm_kpi.salesforce_is_true('is_deleted') }}
),

entries_keyed as (
    select
        {{ crm_kpi.salesforce_id('product_2_id') }} as product_id,
        {{ crm_kpi.salesforce_id('pricebook_2_id') }} as pricebook_id,
        upper(currency_iso_code) as currency,
        unit_price as list_price,
        {{ crm_kpi.salesforce_is_true('is_active') }} as is_active
    from pricebook_entries
),

list_prices as (
    select
        product_id,
        currency,
        list_price,
        row_number() over (
            partition by product_id, currency
            order by
                case when pricebook_id = '{{ var("salesforce_pricebook_id", "") }}' then 0 else 1 end,
                case when is_active then 0 else 1 end,
                pricebook_id
        ) as preference
    from entries_keyed
),

products_keyed as (
    select
        source_row_number,
        {{ crm_kpi.salesforce_id('id') }} as product_id,
        name as product_name,
        family,
        tier_c as tier,
        unit_cost_c as unit_cost,
        upper({{ crm_kpi.salesforce_currency('currency_iso_code') }}) as currency,
        last_modified_date as updated_at
    from products
    where not {{ crm_kpi.salesforce_is_true('is_deleted') }}
),

final as (
    select
        products_keyed.source_row_number,
        products_keyed.product_id,
        products_keyed.product_name,
        products_keyed.family,
        products_keyed.tier,
        list_prices.list_price,
        products_keyed.unit_cost,
        products_keyed.currency,
        products_keyed.updated_at
    from products_keyed
    left join list_prices
        on
            products_keyed.product_id = list_prices.product_id
            and products_keyed.currency = list_prices.currency
            and list_prices.preference = 1
)

select * from final
