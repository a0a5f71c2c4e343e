{#
    Cast text to a type, null when it does not parse (the caller quarantines the row). DuckDB and
    Spark have try_cast; PostgreSQL does not, so on-run-start creates small plpgsql functions
    (create_try_cast_functions) that return null on a parse error.
#}
{% macro try_cast(text_expr, type_name) -%}
    {{ return(adapter.dispatch('try_cast', 'crm_kpi')(text_expr, type_name)) }}
{%- endmacro %}

{% macro default__try_cast(text_expr, type_name) -%}
    try_cast({{ text_expr }} as {{ type_name }})
{%- endmacro %}

{% macro postgres__try_cast(text_expr, type_name) -%}
    {{ target.schema }}.crm_kpi_try_cast_{{ crm_kpi.try_cast_suffix(type_name) }}({{ text_expr }})
{%- endmacro %}

{% macro try_cast_suffix(type_name) -%}
    {{ return(type_name | lower | replace(' ', '_') | replace('(', '_') | replace(')', '') | replace(',', '_')) }}
{%- endmacro %}

{% macro try_cast_types() -%}
    {{ return(['date', 'bigint', crm_kpi.type_double(), 'timestamp with time zone']) }}
{%- endmacro %}

{# on-run-start hook: the PostgreSQL try-cast functions (a no-op elsewhere). #}
{% macro create_try_cast_functions() -%}
    {{ return(adapter.dispatch('create_try_cast_functions', 'crm_kpi')()) }}
{%- endmacro %}

{% macro default__create_try_cast_functions() -%}
    select 1
{%- endmacro %}

{% macro postgres__create_try_cast_functions() -%}
    create schema if not exists {{ target.schema }};
    {%- for type_name in crm_kpi.try_cast_types() %}
    create or replace function {{ target.schema }}.crm_kpi_try_cast_{{ crm_kpi.try_cast_suffix(type_name) }}(value text)
    returns {{ type_name }}
    language plpgsql immutable
    set timezone = 'UTC'
    as $$
    begin
        return value::{{ type_name }};
    exception when others then
        return null;
    end;
    $$;
    {%- endfor %}
{%- endmacro %}
