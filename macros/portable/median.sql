{# The median of a numeric expression (interpolated between the two middle values), as an aggregate. #}
{% macro median(expr) -%}
    {{ return(adapter.dispatch('median', 'crm_kpi')(expr)) }}
{%- endmacro %}

{% macro default__median(expr) -%}
    percentile_cont(0.5) within group (order by {{ expr }})
{%- endmacro %}

{% macro duckdb__median(expr) -%}
    quantile_cont({{ expr }}, 0.5)
{%- endmacro %}

{% macro spark__median(expr) -%}
    percentile({{ expr }}, 0.5)
{%- endmacro %}
