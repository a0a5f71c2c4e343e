with

products as (
    select * from {{ ref('stg_crm__products') }}
),

final as (
    select
        product_id,
        product_name,
        family,
        tier,
        {{ crm_kpi.money('list_price') }} as list_price,
        {{ crm_kpi.money('unit_cost') }} as unit_cost
    from products
)

select * from final
