{#
    The campaign KPI columns from additive measures (spend, leads, mqls, new_customers,
    attributed_revenue), written once for the campaign and the campaign x month marts. Overhead is
    var('campaign_overhead_rate') x spend (0 by default); CAC divides spend plus overhead. New
    customers (sums of fractional credits) are rounded to 6 decimals through a decimal, so that the
    order in which the engine adds the credits cannot change the last bit, nor CAC.
#}
{% macro cac_ratios() -%}
        {%- set new_customers = 'cast(round(cast(new_customers as decimal(28, 8)), 6) as ' ~ crm_kpi.type_double() ~ ')' -%}
        {{ crm_kpi.money('spend') }} as spend,
        {{ crm_kpi.money('spend * ' ~ crm_kpi.checked_var('campaign_overhead_rate')) }} as overhead,
        cast(leads as {{ dbt.type_bigint() }}) as leads,
        cast(mqls as {{ dbt.type_bigint() }}) as mqls,
        {{ new_customers }} as new_customers,
        {{ crm_kpi.money('attributed_revenue') }} as attributed_revenue,
        {{ crm_kpi.safe_divide(crm_kpi.money('spend'), 'leads') }} as cost_per_lead,
        {{ crm_kpi.safe_divide(crm_kpi.money('spend'), 'mqls') }} as cost_per_mql,
        {{ crm_kpi.safe_divide(crm_kpi.money('spend') ~ ' + ' ~ crm_kpi.money('spend * ' ~ crm_kpi.checked_var('campaign_overhead_rate')), new_customers) }} as cac,
        {{ crm_kpi.safe_divide(crm_kpi.money('attributed_revenue') ~ ' - ' ~ crm_kpi.money('spend'), crm_kpi.money('spend')) }} as roi
{%- endmacro %}
