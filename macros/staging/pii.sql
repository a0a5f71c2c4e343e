{#
    Personal data stops at staging. pii_columns: a raw table's columns marked pii in the contract (the
    lead's names, email and phone), whose raw value the quarantine report masks. pii_salt: the secret
    salt of lead_person_key, from the environment variable CRM_KPI_PII_SALT (`crm-kpi run` sets it:
    the variable's value, else a random salt kept beside the warehouse), as a SQL string literal; an
    unsalted hash of an email would let anyone holding the address find the lead.
#}
{% macro pii_columns(table_name) -%}
    {%- if not execute -%}
        {{ return([]) }}
    {%- endif -%}
    {%- set columns = crm_kpi.raw_source_node(table_name).columns.values() -%}
    {{ return(columns | selectattr('meta.pii', 'defined') | selectattr('meta.pii') | map(attribute='name') | list) }}
{%- endmacro %}

{% macro masked_raw_value(table_name, column_expr, value_expr) -%}
    {%- set pii = crm_kpi.pii_columns(table_name) -%}
    {%- if pii -%}
        case when {{ column_expr }} in ('{{ pii | join("', '") }}') and {{ value_expr }} is not null then '(masked: personal data)' else {{ value_expr }} end
    {%- else -%}
        {{ value_expr }}
    {%- endif -%}
{%- endmacro %}

{% macro pii_salt() -%}
    {%- set salt = env_var('CRM_KPI_PII_SALT', '') -%}
    {%- if execute and salt | length < 16 -%}
        {{ exceptions.raise_compiler_error("the environment variable CRM_KPI_PII_SALT (the secret salt of lead_person_key) must hold at least 16 characters: `crm-kpi run` sets it for you; with plain dbt, export the value of warehouse/crm_kpi.duckdb.pii_salt or your own secret") }}
    {%- endif -%}
    {{ return("'" ~ salt | replace("'", "''") ~ "'") }}
{%- endmacro %}
