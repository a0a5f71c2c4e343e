{#
    Keep one row per record: the latest by `order_by` (re-exports: the latest updated_at wins).
    Rows with the same key and order value are identical re-exports; the tie-break only makes the
    choice deterministic.
#}
{% macro dedupe_latest(relation, key_columns, order_by='updated_at') -%}
    select *
    from (
        select
            {{ relation }}.*,
            row_number() over (
                partition by {{ key_columns | join(', ') }}
                order by {{ order_by }} desc, record_id
            ) as row_number_in_record
        from {{ relation }}
    ) as numbered
    where row_number_in_record = 1
{%- endmacro %}
