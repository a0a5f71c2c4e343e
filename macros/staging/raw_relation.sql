{#
    The raw table as a relation for staging: the source when it exists, otherwise (an optional table
    whose file is absent from CRM_KPI_RAW_PATH) an empty relation with the contract's columns, so the
    KPIs that need it come out empty instead of failing the build.
#}
{% macro raw_relation(table_name) -%}
    {%- if crm_kpi.raw_table_is_present(table_name) -%}
        select * from {{ source('crm', table_name) }}
    {%- else -%}
        {%- set columns = crm_kpi.raw_columns(table_name) -%}
        select
        {%- for column in columns %}
            cast(null as {{ dbt.type_string() }}) as {{ column }}{{ "," if not loop.last }}
        {%- endfor %}
        where 1 = 0
    {%- endif -%}
{%- endmacro %}

{% macro raw_source_node(table_name) -%}
    {{ return(graph.sources['source.crm_kpi.crm.' ~ table_name]) }}
{%- endmacro %}

{% macro raw_columns(table_name) -%}
    {{ return(crm_kpi.raw_source_node(table_name).columns.keys() | list) }}
{%- endmacro %}

{% macro raw_table_is_present(table_name) -%}
    {%- set raw_path = env_var('CRM_KPI_RAW_PATH', '') -%}
    {%- if not execute or not raw_path or target.type != 'duckdb' -%}
        {{ return(true) }}
    {%- endif -%}
    {%- set pattern = raw_path ~ '/' ~ table_name ~ '.' ~ env_var('CRM_KPI_RAW_FORMAT', 'csv') -%}
    {%- set found = run_query("select count(*) from glob('" ~ pattern ~ "')") -%}
    {%- if found.columns[0].values()[0] > 0 -%}
        {{ return(true) }}
    {%- endif -%}
    {%- if crm_kpi.raw_source_node(table_name).meta.get('required') -%}
        {{ exceptions.raise_compiler_error("Required raw table '" ~ table_name ~ "' is missing: expected the file " ~ pattern) }}
    {%- endif -%}
    {{ return(false) }}
{%- endmacro %}

