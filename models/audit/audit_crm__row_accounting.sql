{#-
    Per raw table: rows in the file = rows staged + superseded re-export rows + soft-deleted records +
    rows quarantined. Each term is counted on its own, not derived from the others, so the test on
    this model fails if staging loses or invents rows:
        file rows   the base model's rows: a table of every row of the file, rebuilt at each run
        staged      the staging model's rows
        superseded  valid rows - records among them - rows of an event that lost a conflict
        deleted     records whose latest valid row has is_deleted = true
        quarantined the table's rows in the quarantine report (audit_crm__quarantined_rows): rows with a
                    quarantine_reason + rows of an event that lost a conflict (the report's rows beyond
                    the base model's quarantined ones: the conflicts are found once, there)
    After an incremental build, the event tables' staging models hold what they held plus the records
    of the lookback window: an event added, removed or changed before the window (an export that is
    not append-only) unbalances the count, or, when the counts still balance (one old row gone, another
    come), changes the fingerprint of the rows before the window (audit_crm__event_fingerprints): the
    test fails, and `crm-kpi run` rebuilds from scratch.
    The valid rows are grouped by record (record_id: the key as parsed, so equivalent spellings of
    one key are one record) once per table; superseded and deleted both come from that one pass.
-#}
{%- set tables = crm_kpi.raw_table_names() %}
{%- set events = crm_kpi.raw_event_table_names() %}
with

quarantined as (
    select table_name from {{ ref('audit_crm__quarantined_rows') }}
),

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

quarantine_{{ table_name }} as (
    select
        (
            select count(*) from {{ ref('base_crm__' ~ table_name) }}
            where quarantine_reason is not null
        ) as base_rows,
        (
            select count(*) from quarantined
            where table_name = '{{ table_name }}'
        ) as listed_rows
),

conflicts_{{ table_name }} as (
    select
        listed_rows as quarantined_rows,
        listed_rows - base_rows as conflict_rows
    from quarantine_{{ table_name }}
),

tallied_{{ table_name }} as (
    select
        coalesce(sum(valid_rows), 0) - count(*) as valid_beyond_one,
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
        {{ crm_kpi.raw_file_name(table_name) }} as source_file,
        {{ 'true' if crm_kpi.raw_table_is_present(table_name) else 'false' }} as file_present,
        (select count(*) from {{ ref('base_crm__' ~ table_name) }}) as file_rows,
        (select count(*) from {{ ref('stg_crm__' ~ table_name) }}) as staged_rows,
        tallied_{{ table_name }}.valid_beyond_one - conflicts_{{ table_name }}.conflict_rows as superseded_rows,
        tallied_{{ table_name }}.deleted_records,
        conflicts_{{ table_name }}.quarantined_rows,
        {%- if table_name in events %}
        (
            select fingerprints.is_unchanged_before_window
            from {{ ref('audit_crm__event_fingerprints') }} as fingerprints
            where fingerprints.table_name = '{{ table_name }}'
        ) as is_unchanged_before_window
        {%- else %}
        true as is_unchanged_before_window
        {%- endif %}
    from tallied_{{ table_name }}
    cross join conflicts_{{ table_name }}
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
    source_file,
    file_present,
    file_rows,
    staged_rows,
    superseded_rows,
    deleted_records,
    quarantined_rows,
    file_rows = staged_rows + superseded_rows + deleted_records + quarantined_rows as is_balanced,
    is_unchanged_before_window
from final
