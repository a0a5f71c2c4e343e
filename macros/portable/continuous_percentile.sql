{#-
    The exact continuous percentile of a numeric expression (linear interpolation between the two
    nearest values, as percentile_cont), as an aggregate; nulls are ignored, an empty group gives null.
-#}
{% macro continuous_percentile(expr, fraction) -%}
    {{ return(adapter.dispatch('continuous_percentile', 'crm_kpi')(expr, fraction)) }}
{%- endmacro %}

{% macro default__continuous_percentile(expr, fraction) -%}
    percentile_cont({{ fraction }}) within group (order by {{ expr }})
{%- endmacro %}

{% macro duckdb__continuous_percentile(expr, fraction) -%}
    quantile_cont({{ expr }}, {{ fraction }})
{%- endmacro %}

{#- Spark's percentile is exact (not percentile_approx) and interpolates as percentile_cont does. -#}
{% macro spark__continuous_percentile(expr, fraction) -%}
    percentile({{ expr }}, {{ fraction }})
{%- endmacro %}
