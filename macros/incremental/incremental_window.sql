{#
    The incremental strategy of the event-grain facts (activities, campaign touches, lead status
    changes, opportunity stage changes, invoices), written once:

    - cursor: the event's own time (`column`); an incremental run re-reads the rows whose time is at
      or after the latest time already in the table minus a lookback window, so rows that arrive late
      (up to `lookback_days` after the latest event loaded) are still picked up;
    - re-exports: those rows are delete+insert'ed on the model's unique_key, so the latest export of a
      record (as staging dedupes it) replaces the earlier one;
    - deletions: `incremental_cleanup` (a post-hook) removes rows whose parent record is gone (soft
      deleted or quarantined since) and rows after the as-of date (when as_of_date is moved back).

    A row that arrives later than the lookback window, or a change to an event older than it, needs
    `dbt build --full-refresh`. The full build is always the reference: a test proves that an
    incremental run after a day of new data gives exactly the marts of a full refresh.

    `in_incremental_window(column, lookback_days)` is a boolean SQL expression (`true` on a full
    build); `column` may be qualified (`activities.occurred_at`), the fact's column has its last part
    unless `this_column` names it. Children whose parent arrives late (a touch weeks before the lead it
    belongs to is created) are caught by a second window on the parent's creation time, compared with
    the fact's own latest event time (this_column).
#}
{% macro in_incremental_window(column, lookback_days=none, this_column=none) -%}
    {%- set start = crm_kpi.window_start_literal('max(' ~ (this_column or column.split('.')[-1]) ~ ')', lookback_days) -%}
    {%- if start is none -%}
        true
    {%- else -%}
        {{ column }} >= {{ start }}
    {%- endif -%}
{%- endmacro %}

{#
    The rows an incremental staging model of an event table (stg_crm__<table> in staging/crm/events/)
    dedupes, a `where` for dedupe_latest over its base model `base`: the valid rows (no
    quarantine_reason) and, on an incremental run, only those of the records (`key_columns`) that have
    a valid row in the window (event time at or after the latest one in the staging table minus the
    lookback; the model's event_time and meta.lookback_days, rendered from the contract). A record is
    deduped over all of its valid rows, as on a full build, so it keeps the row a full build keeps; the
    model's delete+insert on the key then replaces the records of the window. Written once for full and
    incremental builds: the facts read these staging models, never the base models.
#}
{% macro valid_rows_in_window(base, key_columns) -%}
    {%- set event_time = config.get('event_time') -%}
    {%- set start = crm_kpi.window_start_literal('max(' ~ event_time ~ ')', config.get('meta').get('lookback_days')) if execute else none -%}
    quarantine_reason is null
    {%- if start is not none %}
        and ({{ key_columns | join(', ') }}) in (
            select {{ key_columns | join(', ') }} from {{ base }}
            where quarantine_reason is null and {{ event_time }} >= {{ start }}
        )
    {%- endif -%}
{%- endmacro %}

{# The window start of both kinds of incremental model: `latest` (a SQL expression) minus the lookback. #}
{% macro lookback_start(latest, lookback_days=none) -%}
    {%- set days = (lookback_days if lookback_days is not none else crm_kpi.checked_var('incremental_lookback_days')) | string -%}
    {%- if not modules.re.match('^[0-9]{1,5}$', days) -%}
        {{ exceptions.raise_compiler_error("lookback of " ~ this ~ " = " ~ days ~ " is not a whole number of days (vars incremental_lookback_days, incremental_lookback_days_invoices)") }}
    {%- endif -%}
    {{ dbt.dateadd('day', -1 * (days | int), latest) }}
{%- endmacro %}

{#
    Post-hook of an incremental event fact: delete the rows that a full build would no longer produce.
        event_date     SQL date expression over the fact's columns: rows after the as-of date go
                       (none: the fact is not cut at the as-of date)
        parents        list of {column, model, key}: rows whose parent is no longer in `model` go
#}
{% macro incremental_cleanup(event_date=none, parents=[]) -%}
    {%- if is_incremental() -%}
        delete from {{ this }}
        where {{ event_date ~ " > (select as_of_date from " ~ ref('int_as_of_dates') ~ ")" if event_date else 'false' }}
        {%- for parent in parents %}
            or {{ parent.column }} not in (select {{ parent.key }} from {{ ref(parent.model) }})
        {%- endfor %}
    {%- else -%}
        select 1
    {%- endif -%}
{%- endmacro %}

{#
    The window start of an incremental run as a SQL timestamp literal: `latest` (an aggregate over the
    model's own table, such as max(occurred_at)) minus the lookback, queried once before the model
    runs; none on a full build or when the table is empty. A literal, not a subquery, so the database
    can push the window filter down: through staging's dedupe when the event time is part of the
    dedupe key (lead status and stage history), and into the scan.
#}
{% macro window_start_literal(latest, lookback_days=none) -%}
    {%- if not (execute and is_incremental()) -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set query = "select cast(" ~ crm_kpi.lookback_start(latest, lookback_days) ~ " as "
        ~ dbt.type_timestamp() ~ ") from " ~ this -%}
    {%- set start = run_query(query).columns[0].values()[0] -%}
    {%- if start is none -%}
        {{ return(none) }}
    {%- endif -%}
    {{ return("cast('" ~ start.strftime('%Y-%m-%d %H:%M:%S.%f') ~ "' as " ~ dbt.type_timestamp() ~ ")") }}
{%- endmacro %}
