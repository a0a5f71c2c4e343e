{#
    The records of a raw table, read from its base model: the key (record_key) of each record with a
    valid row (no quarantine_reason), and is_live, false when its latest valid version is soft-deleted.
    The live records are what staging keeps, without staging's dedupe: other tables' references are
    checked against them (contract_checks, live_reference), so no staging model is read by a base model.
#}
{% macro record_keys(table_name, base) -%}
    {%- set node = crm_kpi.raw_source_node(table_name) -%}
    {%- set key = node.meta.primary_key[0] -%}
    {%- set version = crm_kpi.record_version_column(table_name) -%}
    select
        {{ key }} as record_key,
        {%- if 'is_deleted' in node.columns and version %}
        coalesce(max({{ version }}) = max(case when not coalesce(is_deleted, false) then {{ version }} end), false) as is_live
        {%- else %}
        true as is_live
        {%- endif %}
    from {{ base }}
    where quarantine_reason is null
    group by {{ key }}
{%- endmacro %}


{# The references a base model quarantines on: the required ones of an entity table (see the contract). #}
{% macro quarantining_references(node) -%}
    {%- set found = [] -%}
    {%- if execute and not config.get('event_time') -%}
        {%- for column in node.columns.values() if column.meta.get('references') and not column.meta.get('nullable') -%}
            {%- do found.append(column) -%}
        {%- endfor -%}
    {%- endif -%}
    {{ return(found) }}
{%- endmacro %}


{#
    A nullable reference of an entity table, as staging keeps it (see the raw contract's references):
    the value when it is the key of a live record of `table_name` (or when that table has no records
    to check against), null otherwise: a deal whose source lead was soft-deleted keeps its bookings,
    and no mart points to a lead it does not have. audit_crm__orphan_keys lists each cleared value.
#}
{% macro live_reference(column, table_name) -%}
    {%- set base = ref('base_crm__' ~ table_name) -%}
    {%- if not execute -%}
        {{ return(column) }}
    {%- endif -%}
    {%- set records = crm_kpi.record_keys(table_name, base) -%}
    case
        when {{ column }} in (select record_key from ({{ records }}) as live_records where is_live)
            or (select count(*) from ({{ records }}) as any_records) = 0
            then {{ column }}
    end
{%- endmacro %}
