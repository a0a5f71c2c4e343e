{#-
    Every raw row that points to a record staging does not have: a reference (the raw contract's
    `references`) whose value is not the key of a live record of the other table (absent from the
    export, quarantined there, or soft-deleted), when that table has any records. What happened to
    the row follows the contract's rule (the references note in src/crm_kpi/contract.py):
        row quarantined        a required reference of an entity table (a deal of an unknown account)
        reference cleared      a nullable reference of an entity table (the source lead of a deal)
        staged as exported     an event table (incremental): the event facts keep only the events
                               of their staged parents
-#}
{%- set tables = crm_kpi.raw_table_names() %}
{%- set events = crm_kpi.raw_event_table_names() %}
{%- set parents = [] %}
{%- for table_name in tables %}
{%- for column, parent, quarantining in crm_kpi.raw_table_references(table_name) if parent not in parents %}
{%- do parents.append(parent) %}
{%- endfor %}
{%- endfor %}
{%- set parts = [] %}
with

{% for parent in parents -%}
{%- set parent_base = ref('base_crm__' ~ parent) %}
records_{{ parent }} as (
    {{ crm_kpi.record_keys(parent, parent_base) if execute else 'select 1 as record_key, true as is_live' }}
),

{% endfor -%}
{% for table_name in tables -%}
{%- for column, parent, quarantining in crm_kpi.raw_table_references(table_name) -%}
{%- set name = table_name ~ '__' ~ column %}
{%- do parts.append(name) %}
{{ name }} as (
    select
        '{{ table_name }}' as table_name,
        {{ crm_kpi.raw_file_name(table_name) }} as source_file,
        base_rows.source_row_number,
        base_rows.record_id,
        '{{ column }}' as column_name,
        base_rows.{{ column }} as referenced_key,
        '{{ parent }}' as referenced_table,
        case
            when parent_records.record_key is null then 'absent from the export, or quarantined'
            else 'soft-deleted'
        end as referenced_state,
        '{{ "row quarantined" if quarantining else "staged as exported" if table_name in events else "reference cleared in staging" }}' as outcome
    from {{ ref('base_crm__' ~ table_name) }} as base_rows
    left join records_{{ parent }} as parent_records
        on base_rows.{{ column }} = parent_records.record_key
    where
        base_rows.{{ column }} is not null
        and coalesce(parent_records.is_live, false) = false
        and (select count(*) from records_{{ parent }}) > 0
        {%- if quarantining %}
        and base_rows.quarantine_column = '{{ column }}'
        {%- else %}
        and base_rows.quarantine_reason is null
        {%- endif %}
),

{% endfor -%}
{%- endfor -%}
final as (
    {%- for name in parts %}
    select * from {{ name }}
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
)

select * from final
