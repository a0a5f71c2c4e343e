{#- A product's list price: its entry in the price book of var salesforce_pricebook_id, else its first active one. -#}
with

products as (
    select * from {{ ref('base_salesforce__product2') }}
),

pricebook_entries as (
    select * from {{ ref('base_salesforce__pricebook_entry') }}
    where not {{ crm_kpi.salesforce_is_true('is_deleted') }}
),

list_prices as (
    select
        {{ crm_kpi.salesforce_id('product_2_id') }} as product_id,
        upper(currency_iso_code) as currency,
        unit_price as list_price,
        row_number() over (
            partition by {{ crm_kpi.salesforce_id('product_2_id') }}, upper(currency_iso_code)
            order by
                case when {{ crm_kpi.salesforce_id('pricebook_2_id') }} = '{{ var("salesforce_pricebook_id", "") }}' then 0 else 1 end,
                case when {{ crm_kpi.salesforce_is_true('is_active') }} then 0 else 1 end,
                pricebook_2_id
        ) as preference
    from pricebook_entries
),

final as (
    select
        products.source_row_number,
        {{ crm_kpi.salesforce_id('products.id') }} as product_id,
        products.name as product_name,
        products.family,
        products.tier_c as tier,
        list_prices.list_price,
        products.unit_cost_c as unit_cost,
        {{ crm_kpi.salesforce_currency('products.currency_iso_code') }} as currency,
        products.last_modified_date as updated_at
    from products
    left join list_prices
        on {{ crm_kpi.salesforce_id('products.id') }} = list_prices.product_id
        and upper({{ crm_kpi.salesforce_currency('products.currency_iso_code') }}) = coalesce(list_prices.currency, upper({{ crm_kpi.salesforce_currency('products.currency_iso_code') }}))
        and list_prices.preference = 1
    where not {{ crm_kpi.salesforce_is_true('products.is_deleted') }}
)

select * from final
