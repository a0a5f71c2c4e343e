{#
    The raw table as a relation for staging: the source when it exists, otherwise (an optional table
    whose file is absent from CRM_KPI_RAW_PATH, or empty: zero bytes, not even a header) an empty
    relation with the contract's columns, so the KPIs that need it come out empty instead of failing
    the build. Every row carries source_row_number, its position in the file (see the sources YAML).
#}
{% macro raw_relation(table_name) -%}
    {#- A source adapter's model when one feeds the table (CRM_KPI_SOURCE, macros/source_adapters); the
        contract's source stays the declared input of the base model (dbt lineage, the house rules). -#}
    {%- if table_name in crm_kpi.source_adapter_tables() -%}
        {%- do source('crm', table_name) -%}
        select * from {{ ref('stg_' ~ env_var('CRM_KPI_SOURCE') ~ '__' ~ table_name) }}
    {%- elif crm_kpi.raw_table_is_present(table_name) -%}
        select * from {{ source('crm', table_name) }}
    {%- else -%}
        {%- set columns = crm_kpi.raw_columns(table_name) -%}
        select
            cast(null as {{ dbt.type_bigint() }}) as source_row_number,
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

{#
    The raw file of a table as the user knows it: `<CRM_KPI_RAW_PATH>/<table>.<format>`, or the demo
    seed `seeds/demo/<table>.csv`; a SQL string literal (quotes doubled) for the audit models.
#}
{% macro raw_file_name(table_name) -%}
    {%- set raw_path = env_var('CRM_KPI_RAW_PATH', '') -%}
    {%- set name = raw_path ~ '/' ~ table_name ~ '.' ~ env_var('CRM_KPI_RAW_FORMAT', 'csv') if raw_path else 'seeds/demo/' ~ table_name ~ '.csv' -%}
    {#- A source adapter's table: the export's objects it comes from (macros/source_adapters). -#}
    {%- if table_name in crm_kpi.source_adapter_tables() -%}
        {%- set name = crm_kpi.source_adapter_origin(table_name) -%}
    {%- endif -%}
    {{ return("'" ~ name | replace("'", "''") ~ "'") }}
{%- endmacro %}

{% macro raw_table_is_present(table_name) -%}
    {%- set raw_path = env_var('CRM_KPI_RAW_PATH', '') -%}
    {%- if not execute or not raw_path or target.type != 'duckdb' or table_name in crm_kpi.source_adapter_tables() -%}
        {{ return(true) }}
    {%- endif -%}
    {%- set pattern = raw_path ~ '/' ~ table_name ~ '.' ~ env_var('CRM_KPI_RAW_FORMAT', 'csv') -%}
    {#- The file's size only (read_blob reads no content unless asked): a zero-byte file has no header. -#}
    {%- set found = run_query("select size from read_blob('" ~ pattern | replace("'", "''") ~ "')") if execute else none -%}
    {%- set sizes = found.columns[0].values() if found is not none and found.rows | length > 0 else [] -%}
    {%- if sizes and sizes[0] > 0 -%}
        {{ return(true) }}
    {%- endif -%}
    {%- if crm_kpi.raw_source_node(table_name).meta.get('required') -%}
        {%- set problem = 'is empty (0 bytes, not even a header)' if sizes else 'is missing' -%}
        {{ exceptions.raise_compiler_error("Required raw table '" ~ table_name ~ "' " ~ problem ~ ": expected the file " ~ pattern) }}
    {%- endif -%}
    {{ return(false) }}
{%- endmacro %}

{#
    Hooks of the base models: DuckDB's CSV reader keeps the file's row order (the source's
    source_row_number, row_number() over ()) while preserve_insertion_order is on; the profile turns
    it off for speed (big builds), so a base model turns it on while it reads a CSV and off again.
#}
{% macro set_raw_row_order(on) -%}
    {%- if target.type == 'duckdb' and env_var('CRM_KPI_RAW_PATH', '') and env_var('CRM_KPI_RAW_FORMAT', 'csv') == 'csv' -%}
        set preserve_insertion_order = {{ 'true' if on else 'false' }}
    {%- else -%}
        select 1
    {%- endif -%}
{%- endmacro %}
