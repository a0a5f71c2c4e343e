{#-
    Per event table (the incremental ones): whether an incremental run may trust the rows it does not re-read.
    The incremental staging models re-read only the records with a row in the lookback window, so a row
    removed, added or changed before the window (an export that is not append-only: one old activity gone,
    another late one come, the counts unchanged) would stay wrong. Each run records, for the next run, the
    window start that run's staging models will use (the latest event time now staged minus the lookback)
    and a fingerprint of the file's rows before it: their count and the sum of a hash of each row's parsed
    columns (converted money included) and quarantine reason (row_hash). The next run fingerprints its file's rows before that same
    start; unless both are equal, the rows before the window are not the same rows, is_unchanged_before_window
    is false, the row accounting's test fails and `crm-kpi run` rebuilds from scratch. A full build (and the
    first) has nothing to compare: true. A changed lookback var is not compared either: false.
-#}
{%- set events = crm_kpi.raw_event_table_names() %}
with

{% for table_name in events -%}
{%- set node = graph.nodes.get('model.crm_kpi.stg_crm__' ~ table_name) if execute else none -%}
{%- set event_time = node.config.event_time if node else 'source_row_number' -%}
{%- set lookback = (node.config.meta.lookback_days if node else 0) | string -%}
{%- set base_node = graph.nodes.get('model.crm_kpi.base_crm__' ~ table_name) if execute else none -%}
{%- set positional = ['source_row_number', 'parse_failure_column', 'parse_failure_reason', 'parse_failure_value', 'quarantine_column', 'quarantine_value'] -%}
{%- set columns = base_node.columns.keys() | reject('in', positional) | list if base_node else ['record_id'] -%}
hashed_{{ table_name }} as (
    select
        {{ event_time }} as event_time,
        {{ crm_kpi.row_hash(columns) }} as row_hash
    from {{ ref('base_crm__' ~ table_name) }}
),

windows_{{ table_name }} as (
    select
        cast({{ crm_kpi.lookback_start('max(' ~ event_time ~ ')', lookback) }} as {{ dbt.type_timestamp() }}) as window_start,
        {%- if is_incremental() %}
        (select previous.window_start from {{ this }} as previous where previous.table_name = '{{ table_name }}') as checked_window_start
        {%- else %}
        cast(null as {{ dbt.type_timestamp() }}) as checked_window_start
        {%- endif %}
    from {{ ref('stg_crm__' ~ table_name) }}
),

fingerprinted_{{ table_name }} as (
    select
        '{{ table_name }}' as table_name,
        {{ lookback }} as lookback_days,
        windows.window_start,
        count(case when hashed.event_time < windows.window_start then 1 end) as rows_before_window,
        cast(coalesce(sum(case when hashed.event_time < windows.window_start then hashed.row_hash end), 0) as {{ dbt.type_string() }}) as fingerprint_before_window,
        windows.checked_window_start,
        count(case when hashed.event_time < windows.checked_window_start then 1 end) as checked_rows,
        cast(coalesce(sum(case when hashed.event_time < windows.checked_window_start then hashed.row_hash end), 0) as {{ dbt.type_string() }}) as checked_fingerprint
    from windows_{{ table_name }} as windows
    left join hashed_{{ table_name }} as hashed on 1 = 1
    group by windows.window_start, windows.checked_window_start
),

{% endfor -%}
fingerprinted as (
    {%- for table_name in events %}
    select * from fingerprinted_{{ table_name }}
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
),

previous as (
    {%- if is_incremental() %}
    select
        table_name,
        lookback_days,
        window_start,
        rows_before_window,
        fingerprint_before_window
    from {{ this }}
    {%- else %}
    select
        cast(null as {{ dbt.type_string() }}) as table_name,
        cast(null as {{ dbt.type_int() }}) as lookback_days,
        cast(null as {{ dbt.type_timestamp() }}) as window_start,
        cast(null as {{ dbt.type_bigint() }}) as rows_before_window,
        cast(null as {{ dbt.type_string() }}) as fingerprint_before_window
    where 1 = 0
    {%- endif %}
),

final as (
    select
        fingerprinted.table_name,
        fingerprinted.lookback_days,
        fingerprinted.window_start,
        fingerprinted.rows_before_window,
        fingerprinted.fingerprint_before_window,
        fingerprinted.checked_window_start,
        fingerprinted.checked_rows,
        fingerprinted.checked_fingerprint,
        previous.rows_before_window as previous_rows,
        previous.fingerprint_before_window as previous_fingerprint,
        coalesce(
            previous.window_start is null
            or (
                previous.lookback_days = fingerprinted.lookback_days
                and fingerprinted.checked_rows = previous.rows_before_window
                and fingerprinted.checked_fingerprint = previous.fingerprint_before_window
            ),
            false
        ) as is_unchanged_before_window
    from fingerprinted
    left join previous on fingerprinted.table_name = previous.table_name
)

select * from final
