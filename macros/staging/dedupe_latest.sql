{#
    Keep one row per record: the latest by `order_by` (re-exports: the latest updated_at wins).
    Rows with the same key and order value are identical re-exports; the tie-break only makes the
    choice deterministic. `where` (optional): a condition on `relation`'s rows, applied before.
#}
{% macro dedupe_latest(relation, key_columns, order_by='updated_at', where=none) -%}
    select *
    from (
        select
            deduped.*,
            row_number() over (
                partition by {{ key_columns | join(', ') }}
                order by {{ order_by }} desc, record_id
            ) as row_number_in_record
        from {{ relation }} as deduped
        {%- if where %}
        where {{ where }}
        {%- endif %}
    ) as numbered
    where row_number_in_record = 1
{%- endmacro %}

{# The column that orders a raw table's re-exports of one record: updated_at where the table has it. #}
{% macro record_version_column(table_name) -%}
    {{ return('updated_at' if 'updated_at' in crm_kpi.raw_columns(table_name) else 'record_id') }}
{%- endmacro %}
