{#
    Custom schemas are used as they are (`staging`, `intermediate`, `marts`, `raw`, `audit`) rather
    than prefixed with the target schema, so BI tools find the marts in a schema named `marts`.
    Set the var `schema_prefix` to keep several builds apart in one database (the tests do).
#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- set prefix = crm_kpi.checked_var('schema_prefix') -%}
    {%- if custom_schema_name is none -%}
        {{ prefix ~ target.schema }}
    {%- else -%}
        {{ prefix ~ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
