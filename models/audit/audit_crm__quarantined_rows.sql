{#- Every raw row that staging refused, with the table (file), the record id, the column and why. -#}
{%- set tables = crm_kpi.raw_table_names() %}
with

{% for table_name in tables -%}
quarantined_{{ table_name }} as (
    select
        '{{ table_name }}' as table_name,
        record_id,
        quarantine_column as column_name,
        quarantine_value as raw_value,
        quarantine_reason as reason
    from {{ ref('base_crm__' ~ table_name) }}
    where quarantine_reason is not null
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
