{#-
    Per raw table: rows in = rows staged + superseded re-export rows + soft-deleted records + rows
    quarantined. Each term is counted on its own, not derived from the others, so the test on this
    model fails if staging loses or invents rows:
        superseded = valid rows - distinct record keys among them
        deleted    = record keys whose latest valid row has is_deleted = true
    The valid rows are grouped by record key once per table; both terms come from that one pass.
-#}
{%- set tables = crm_kpi.raw_table_names() %}
with

{% for table_name in tables -%}
{%- set columns = crm_kpi.raw_columns(table_name) if execute else [] -%}
{%- set order_column = (crm_kpi.record_version_column(table_name) if execute else none) or 'record_id' -%}
records_{{ table_name }} as (
    select
        record_id,
        {%- if 'is_deleted' in columns %}
        max({{ order_column }}) as latest_at,
        max(case when is_deleted then {{ order_column }} end) as latest_deleted_at,
        {%- endif %}
        count(*) as valid_rows
    from {{ ref('base_crm__' ~ table_name) }}
    where quarantine_reason is null
    group by record_id
),

tallied_{{ table_name }} as (
    select
        coalesce(sum(valid_rows), 0) - count(*) as superseded_rows,
        {%- if 'is_deleted' in columns %}
        coalesce(sum(case when latest_deleted_at = latest_at then 1 else 0 end), 0) as deleted_records
        {%- else %}
        0 as deleted_records
        {%- endif %}
    from records_{{ table_name }}
),

counted_{{ table_name }} as (
    select
        '{{ table_name }}' as table_name,
        (select count(*) from {{ ref('base_crm__' ~ table_name) }}) as raw_rows,
        (select count(*) from {{ ref('stg_crm__' ~ table_name) }}) as staged_rows,
        tallied_{{ table_name }}.superseded_rows,
        tallied_{{ table_name }}.deleted_records,
        (
            select count(*)
            from {{ ref('base_crm__' ~ table_name) }} as base_rows
            where base_rows.quarantine_reason is not null
        ) as quarantined_rows
    from tallied_{{ table_name }}
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
