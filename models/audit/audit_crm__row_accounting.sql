{#-
    Per raw table: rows in = rows staged + superseded re-export rows + soft-deleted records + rows
    quarantined. Each term is counted on its own, not derived from the others, so the test on this
    model fails if staging loses or invents rows:
        superseded = valid rows - distinct record keys among them
        deleted    = record keys whose latest valid row has is_deleted = true
-#}
{%- set tables = crm_kpi.raw_table_names() %}
with

{% for table_name in tables -%}
{%- set key = crm_kpi.raw_source_node(table_name).meta.primary_key if execute else ['record_id'] -%}
{%- set columns = crm_kpi.raw_columns(table_name) if execute else [] -%}
{%- set order_column = 'updated_at' if 'updated_at' in columns else 'record_id' -%}
counted_{{ table_name }} as (
    select
        '{{ table_name }}' as table_name,
        (select count(*) from {{ ref('base_crm__' ~ table_name) }}) as raw_rows,
        (select count(*) from {{ ref('stg_crm__' ~ table_name) }}) as staged_rows,
        (
            select count(*) - count(distinct record_id)
            from {{ ref('base_crm__' ~ table_name) }}
            where quarantine_reason is null
        ) as superseded_rows,
        {%- if 'is_deleted' in columns %}
        (
            select count(*)
            from (
                select
                    record_id,
                    max({{ order_column }}) as latest_at,
                    max(case when is_deleted then {{ order_column }} end) as latest_deleted_at
                from {{ ref('base_crm__' ~ table_name) }}
                where quarantine_reason is null
                group by record_id
            ) as records
            where records.latest_deleted_at = records.latest_at
        ) as deleted_records,
        {%- else %}
        0 as deleted_records,
        {%- endif %}
        (
            select count(*)
            from {{ ref('base_crm__' ~ table_name) }}
            where quarantine_reason is not null
        ) as quarantined_rows
),

{% endfor -%}
final as (
    {%- for table_name in tables %}
    select * from counted_{{ table_name }}
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
)

select
    table_name,
    raw_rows,
    staged_rows,
    superseded_rows,
    deleted_records,
    quarantined_rows,
    raw_rows = staged_rows + superseded_rows + deleted_records + quarantined_rows as is_balanced
from final
