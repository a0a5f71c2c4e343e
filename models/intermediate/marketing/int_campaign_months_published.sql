{#-
    One row per campaign (and the unattributed row), month and attribution rule, as the CAC marts
    publish it: the unattributed row named, money rounded to the cent and new customers (sums of
    fractional credits) to 6 decimals through a decimal, so that a campaign's totals
    (kpi_campaign_cac) are the sums of its published months (kpi_campaign_cac_monthly) to the cent.
-#}
with

campaign_months as (
    select * from {{ ref('int_campaign_months_measured') }}
),

final as (
    select
        coalesce(campaign_id, 'unattributed') as campaign_id,
        month_start,
        coalesce(campaign_name, 'Unattributed') as campaign_name,
        channel,
        attribution_rule,
        {{ crm_kpi.money('spend') }} as spend,
        leads,
        mqls,
        cast(round(cast(new_customers as decimal(28, 8)), 6) as {{ crm_kpi.type_double() }}) as new_customers,
        {{ crm_kpi.money('attributed_revenue') }} as attributed_revenue
    from campaign_months
)

select * from final
