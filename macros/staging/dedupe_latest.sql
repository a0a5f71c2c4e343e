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

    `then_by` (optional) orders the rows of one record and version further: the event tables pass
    event_row_order, so that of rows that differ the same one is kept whatever the file's order.
#}
{% macro dedupe_latest(relation, key_columns, order_by=none, where=none, then_by=none) -%}
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
                order by {{ order_by ~ ' desc' if order_by else keys }}{{ ', ' ~ then_by if then_by }}
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

{#
    The columns compared when rows of one record may differ (conflicting duplicates): every column of
    the base model except the record's key and version, money as exported (original_<column>,
    original_currency), never the converted amount or the rate.
#}
{% macro compared_columns(table_name) -%}
    {%- if not execute -%}
        {{ return([]) }}
    {%- endif -%}
    {%- set node = crm_kpi.raw_source_node(table_name) -%}
    {%- set money = node.meta.get('money', []) -%}
    {%- set skipped = node.meta.primary_key + [crm_kpi.record_version_column(table_name)] -%}
    {%- set names = [] -%}
    {%- for name in node.columns.keys() if name not in skipped -%}
        {%- do names.append('original_' ~ name if name in money or (money and name == 'currency') else name) -%}
    {%- endfor -%}
    {{ return(names) }}
{%- endmacro %}

{#
    A row's compared values as one text (columns in contract order, joined with |, null as `(null)`):
    rows of an event that differ are told apart, and ordered, by it.
#}
{% macro row_values(table_name, alias=none) -%}
    {%- set parts = [] -%}
    {%- for name in crm_kpi.compared_columns(table_name) -%}
        {%- do parts.append("coalesce(cast(" ~ (alias ~ "." if alias else "") ~ name ~ " as " ~ dbt.type_string() ~ "), '(null)')") -%}
    {%- endfor -%}
    {%- if parts %}
    concat_ws('|', {{ parts | join(', ') }})
    {%- else %}
    cast('' as {{ dbt.type_string() }})
    {%- endif %}
{%- endmacro %}

{#
    The tie-break of an event table's dedupe (then_by): of rows with the same key that differ once
    parsed, the one whose row_values sort last is kept; audit_crm__quarantined_rows lists the others
    as conflicting duplicates. A rule of the data, never of the file's row order.
#}
{% macro event_row_order(table_name) -%}
    {{ return(crm_kpi.row_values(table_name) ~ ' desc' if crm_kpi.compared_columns(table_name) else none) }}
{%- endmacro %}

{#
    The rows an event table's staging does not keep because another row of the same event, different
    once parsed, is kept (event_row_order): for audit_crm__quarantined_rows, as (source_row_number,
    record_id, column_name, raw_value, reason), naming the first column that differs from the kept
    row and the kept row's number. Read over the whole base model, as a full build dedupes.
#}
{% macro event_conflict_rows(table_name, base) -%}
    {%- set keys = crm_kpi.raw_source_node(table_name).meta.primary_key if execute else ['record_id'] -%}
    {%- set compared = crm_kpi.compared_columns(table_name) -%}
    {%- set order = crm_kpi.row_values(table_name) ~ ' desc, source_row_number' -%}
    {%- if not compared %}
    {#- Every column is part of the key (lead status history): rows of one key are equal. #}
    select
        cast(null as {{ dbt.type_bigint() }}) as source_row_number,
        cast(null as {{ dbt.type_string() }}) as record_id,
        cast(null as {{ dbt.type_string() }}) as column_name,
        cast(null as {{ dbt.type_string() }}) as raw_value,
        cast(null as {{ dbt.type_string() }}) as reason
    where 1 = 0
    {%- else %}
    select
        source_row_number,
        record_id,
        case
        {%- for name in compared %}
            when {{ crm_kpi.differs_from_kept(name) }} then '{{ name | replace('original_', '') }}'
        {%- endfor %}
        end as column_name,
        case
        {%- for name in compared %}
            when {{ crm_kpi.differs_from_kept(name) }} then cast({{ name }} as {{ dbt.type_string() }})
        {%- endfor %}
        end as raw_value,
        {{ dbt.concat([
            "'conflicting duplicate: rows with the same " ~ keys | join(' and ') ~ " differ; staging keeps row '",
            "cast(kept_row_number as " ~ dbt.type_string() ~ ")",
            "' (of the rows that differ, the one whose values sort last)'",
        ]) }} as reason
    from (
        select
            *,
            {{ crm_kpi.row_values(table_name) }} as row_text,
            first_value({{ crm_kpi.row_values(table_name) }}) over (partition by {{ keys | join(', ') }} order by {{ order }}) as kept_text,
            first_value(source_row_number) over (partition by {{ keys | join(', ') }} order by {{ order }}) as kept_row_number
            {%- for name in compared %},
            first_value({{ name }}) over (partition by {{ keys | join(', ') }} order by {{ order }}) as {{ name }}__kept
            {%- endfor %}
        from {{ base }}
        where
            quarantine_reason is null
            and ({{ keys | join(', ') }}) in (
                select {{ keys | join(', ') }} from {{ base }}
                where
                    quarantine_reason is null
                    {#- Only a key with more than one row can have rows that differ: the distinct
                        row texts are counted for those few keys, not for every row. #}
                    and ({{ keys | join(', ') }}) in (
                        select {{ keys | join(', ') }} from {{ base }}
                        where quarantine_reason is null
                        group by {{ keys | join(', ') }}
                        having count(*) > 1
                    )
                group by {{ keys | join(', ') }}
                having count(distinct {{ crm_kpi.row_values(table_name) }}) > 1
            )
    ) as ranked
    where row_text <> kept_text
    {%- endif %}
{%- endmacro %}

{% macro differs_from_kept(name) -%}
    coalesce(cast({{ name }} as {{ dbt.type_string() }}), '(null)') <> coalesce(cast({{ name }}__kept as {{ dbt.type_string() }}), '(null)')
{%- endmacro %}
