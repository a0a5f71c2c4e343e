{#
    Keep one row per record (`key_columns`): the latest by `order_by`, the table's version column
    (re-exports: the latest updated_at wins). A table without one (order_by none) has no versions: its
    re-exports of a record are copies, and which copy is kept does not matter. Rows with the same key
    and version are copies too. The window is then ordered by its own key, which the database skips.
    `where` (optional): a condition on `relation`'s rows, applied before.
#}
{% macro dedupe_latest(relation, key_columns, order_by=none, where=none) -%}
    select *
    from (
        select
            deduped.*,
            row_number() over (
                partition by {{ key_columns | join(', ') }}
                order by {{ order_by ~ ' desc' if order_by else key_columns | join(', ') }}
            ) as row_number_in_record
        from {{ relation }} as deduped
        {%- if where %}
        where {{ where }}
        {%- endif %}
    ) as numbered
    where row_number_in_record = 1
{%- endmacro %}

{# A raw table's version column (updated_at where the table has one, else none): see dedupe_latest. #}
{% macro record_version_column(table_name) -%}
    {{ return('updated_at' if 'updated_at' in crm_kpi.raw_columns(table_name) else none) }}
{%- endmacro %}
