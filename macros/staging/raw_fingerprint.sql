{#
    An unchanged raw file is not re-read. On DuckDB with CRM_KPI_RAW_PATH, a base model is incremental
    (dbt_project.yml) and carries, as its table comment, the fingerprint of everything its rows come
    from: the raw file's size and a hash of its bytes, the model's query as rendered (code, contract,
    vars), the fingerprints of the base models it looks values up in (their comments) and the SQL of
    the views between them (stg_crm__exchange_rates, stg_crm__stages). When the fingerprint is that
    of the last build, the model inserts nothing and keeps its rows; otherwise a pre-hook empties the
    table and the model inserts every row of the file, as a full build does. Elsewhere (PostgreSQL,
    Spark, the demo seeds) the base models are tables rebuilt at each run and the fingerprint is none.
#}
{% macro raw_input_fingerprint(table_name, query) -%}
    {%- set raw_path = env_var('CRM_KPI_RAW_PATH', '') -%}
    {%- if not execute or target.type != 'duckdb' or not raw_path -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set file = raw_path ~ '/' ~ table_name ~ '.' ~ env_var('CRM_KPI_RAW_FORMAT', 'csv') -%}
    {%- set tables = [] -%}
    {%- set views = [] -%}
    {%- set pending = model.depends_on.nodes | list -%}
    {%- for _ in range(100) if pending -%}
        {%- set node = graph.nodes.get(pending.pop()) -%}
        {%- if node is not none and node.resource_type == 'model' -%}
            {%- if node.name.startswith('base_crm__') -%}
                {%- do tables.append(node.alias) -%}
            {%- else -%}
                {%- do views.append(node.alias) -%}
                {%- do pending.extend(node.depends_on.nodes) -%}
            {%- endif -%}
        {%- endif -%}
    {%- endfor -%}
    {%- set inputs -%}
        select cast(size as varchar) || ':' || cast(hash(content) as varchar) from read_blob('{{ file | replace("'", "''") }}')
        union all
        select * from (
            select table_name || ':' || coalesce(comment, '') from duckdb_tables()
            where database_name = '{{ this.database }}' and schema_name = '{{ this.schema }}'
                and table_name in ('{{ tables | join("', '") }}')
            union all
            select view_name || ':' || sql from duckdb_views()
            where database_name = '{{ this.database }}' and view_name in ('{{ views | join("', '") }}')
            order by 1
        )
    {%- endset -%}
    {%- set found = run_query(inputs).columns[0].values() | join('\n') -%}
    {#- The file's content counts, not where it is: the query is hashed without the raw path. #}
    {{ return(local_md5(found ~ '\n' ~ query | replace(raw_path, '<raw path>'))) }}
{%- endmacro %}

{# True when a base model's inputs are those of the last build (its comment): an incremental run keeps its rows. #}
{% macro raw_input_is_unchanged(table_name, query) -%}
    {%- if not (execute and is_incremental()) -%}
        {{ return(false) }}
    {%- endif -%}
    {%- set fingerprint = crm_kpi.raw_input_fingerprint(table_name, query) -%}
    {%- set previous = run_query(
        "select comment from duckdb_tables() where database_name = '" ~ this.database ~ "' and schema_name = '"
        ~ this.schema ~ "' and table_name = '" ~ this.identifier ~ "'"
    ).columns[0].values() -%}
    {{ return(fingerprint is not none and previous | length == 1 and previous[0] == fingerprint) }}
{%- endmacro %}

{# Pre-hook of a base model: an incremental run whose inputs changed starts from an empty table. #}
{% macro forget_changed_raw_rows() -%}
    {%- set table_name = this.identifier | replace('base_crm__', '', 1) -%}
    {%- if execute and is_incremental() and not crm_kpi.raw_input_is_unchanged(table_name, crm_kpi.typed_raw_rows_query(table_name)) -%}
        delete from {{ this }}
    {%- else -%}
        select 1
    {%- endif -%}
{%- endmacro %}

{# Post-hook of a base model: its inputs' fingerprint as its table comment (DuckDB with a raw path). #}
{% macro record_raw_fingerprint() -%}
    {%- set table_name = this.identifier | replace('base_crm__', '', 1) -%}
    {%- set fingerprint = crm_kpi.raw_input_fingerprint(table_name, crm_kpi.typed_raw_rows_query(table_name)) if execute else none -%}
    {%- if fingerprint is not none -%}
        comment on table {{ this }} is '{{ fingerprint }}'
    {%- else -%}
        select 1
    {%- endif -%}
{%- endmacro %}
