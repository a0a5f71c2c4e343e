{#-
    The competitor price observations the KPIs read: one row per competitor, product and day observed,
    on or before the as-of date (a later observation is not known yet), in the reporting currency.
-#}
with

competitor_prices as (
    select * from {{ ref('stg_crm__competitor_prices') }}
),

as_of_dates as (
    select * from {{ ref('int_as_of_dates') }}
),

final as (
    select
        competitor_prices.competitor_id,
        competitor_prices.product_id,
        competitor_prices.observed_on,
        competitor_prices.price
    from competitor_prices
    cross join as_of_dates
    where competitor_prices.observed_on <= as_of_dates.as_of_date
)

select * from final
