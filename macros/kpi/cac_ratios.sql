{#
    The campaign KPI columns from additive measures (spend, leads, mqls, new_customers,
    attributed_revenue), written once for the campaign and the campaign x month marts. Overhead is
    var('campaign_overhead_rate') x spend (0 by default); CAC divides spend plus overhead.
#}
{% macro cac_ratios() -%}
        {{ crm_kpi.money('spend') }} as spend,
        {{ crm_kpi.money('spend * ' ~ (var('campaign_overhead_rate') | float)) }} as overhead,
        cast(leads as {{ dbt.type_bigint() }}) as leads,
        cast(mqls as {{ dbt.type_bigint() }}) as mqls,
        cast(new_customers as {{ crm_kpi.type_double() }}) as new_customers,
        {{ crm_kpi.money('attributed_revenue') }} as attributed_revenue,
        {{ crm_kpi.safe_divide(crm_kpi.money('spend'), 'leads') }} as cost_per_lead,
        {{ crm_kpi.safe_divide(crm_kpi.money('spend'), 'mqls') }} as cost_per_mql,
        {{ crm_kpi.safe_divide(crm_kpi.money('spend') ~ ' + ' ~ crm_kpi.money('spend * ' ~ (var('campaign_overhead_rate') | float)), 'new_customers') }} as cac,
        {{ crm_kpi.safe_divide(crm_kpi.money('attributed_revenue') ~ ' - ' ~ crm_kpi.money('spend'), crm_kpi.money('spend')) }} as roi
{%- endmacro %}
