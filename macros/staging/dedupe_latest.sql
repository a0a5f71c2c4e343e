{#
    Keep one row per record (`key_columns`) of `relation` (a model or a CTE): the latest by
    `order_by`, the table's version column (re-exports: the latest updated_at wins). A table without
    one (order_by none) has no versions: its re-exports of a record are copies, and which copy is kept
    does not matter. Rows with the same key and version are copies too. `where` (optional): a
    condition on `relation`'s rows (staging: quarantine_reason is null), applied first; the key
    columns must not be null in the rows it keeps (they are required, so quarantined when missing).

    Most records have one row, so only the records with more than one row go through the window
    (row_number over the record); the rest pass straight through. Besides the window's sort, this
    saves its memory: at 10M leads the 90M activities dedupe within a 4GB DuckDB memory limit (the
    grouping and the semi-join spill to disk; a window over every row ran out of memory).
#}
{% macro dedupe_latest(relation, key_columns, order_by=none, where=none) -%}
    {%- set keys = key_columns | join(', ') -%}
    with

    copied as (
        select {{ keys }}
        from {{ relation }}
        {%- if where %}
        where {{ where }}
        {%- endif %}
        group by {{ keys }}
        having count(*) > 1
    )

    select *
    from (
        select
            deduped.*,
            row_number() over (
                partition by {{ keys }}
                order by {{ order_by ~ ' desc' if order_by else keys }}
            ) as row_number_in_record
        from {{ relation }} as deduped
        where
            {% if where %}({{ where }}) and {% endif %}({{ keys }}) in (select {{ keys }} from copied)
    ) as numbered
    where row_number_in_record = 1

    union all

    select
        deduped.*,
        1 as row_number_in_record
    from {{ relation }} as deduped
    where
        {% if where %}({{ where }}) and {% endif %}({{ keys }}) not in (select {{ keys }} from copied)
{%- endmacro %}

{# A raw table's version column (updated_at where the table has one, else none): see dedupe_latest. #}
{% macro record_version_column(table_name) -%}
    {{ return('updated_at' if 'updated_at' in crm_kpi.raw_columns(table_name) else none) }}
{%- endmacro %}
