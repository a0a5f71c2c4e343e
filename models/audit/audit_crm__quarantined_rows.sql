{#-
    Every raw row that staging refused, with its file, its row number in the file, the record id, the
    column and why: the rows the base models quarantined, and the rows of an event that differ from
    the one staging keeps (event_conflict_rows). The raw value of a column of personal data (a lead's
    names, email, phone: pii in the contract) is masked: the audit schema is one BI may read.
-#}
{%- set tables = crm_kpi.raw_table_names() %}
{%- set events = crm_kpi.raw_event_table_names() %}
with

{% for table_name in tables -%}
quarantined_{{ table_name }} as (
    select
        '{{ table_name }}' as table_name,
        {{ crm_kpi.raw_file_name(table_name) }} as source_file,
        source_row_number,
        record_id,
        quarantine_column as column_name,
        {{ crm_kpi.masked_raw_value(table_name, 'quarantine_column', 'quarantine_value') }} as raw_value,
        quarantine_reason as reason
    from {{ ref('base_crm__' ~ table_name) }}
    where quarantine_reason is not null
    {%- if table_name in events %}
    union all
    select
        '{{ table_name }}' as table_name,
        {{ crm_kpi.raw_file_name(table_name) }} as source_file,
        source_row_number,
        record_id,
        column_name,
        {{ crm_kpi.masked_raw_value(table_name, 'column_name', 'raw_value') }} as raw_value,
        reason
    from ({{ crm_kpi.event_conflict_rows(table_name, ref('base_crm__' ~ table_name)) }}) as conflicting
    {%- endif %}
),

{% endfor -%}
final as (
    {%- for table_name in tables %}
    select * from quarantined_{{ table_name }}
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
)

select * from final
