{#
    The first step of staging for one raw table, written once for all of them: every raw row, with
    each contract column cast from text to its type (from the sources YAML: data_type and meta), enums
    trimmed and lower-cased, timestamps in UTC, money converted to the reporting currency, and the
    first reason (if any) that the row must be quarantined:

        quarantine_column  the column at fault
        quarantine_reason  why (missing required value, cannot parse, unknown value, no exchange rate, ...)
        quarantine_value   the raw text of that column
        record_id          the row's primary key as text (for the quarantine report)

    Arguments
        table_name   raw table (a source of `crm`)
        money        list of {amount: [columns], currency: column, on: date expression over typed
                     columns}: converts each amount column into the reporting currency; the original
                     value stays as original_<column>, the currency as original_currency
        checks       extra checks: list of {column, condition (true = invalid; over typed columns), reason}

    An incremental base model (its event time in dbt's event_time config) keeps only the rows of the
    window on an incremental run (see in_base_window).
#}
{% macro typed_raw_rows(table_name, money=[], checks=[]) -%}
    {%- set event_time = config.get('event_time') -%}
    {%- set node = crm_kpi.raw_source_node(table_name) if execute else none -%}
    {%- set columns = node.columns.values() | list if execute else [] -%}
    {%- set primary_key = node.meta.get('primary_key', []) if execute else [] -%}
    {%- set money_columns = [] -%}
    {%- for spec in money %}{% for column in spec.amount %}{% do money_columns.append(column) %}{% endfor %}{% endfor -%}
    {%- set failures = [] -%}
    {%- for column in columns -%}
        {%- set raw = 'parsed.' ~ column.name ~ '__text' -%}
        {%- if not column.meta.get('nullable', false) -%}
            {%- do failures.append({'column': column.name, 'condition': raw ~ ' is null', 'reason': "'missing required value'"}) -%}
        {%- endif -%}
        {%- if column.data_type != 'string' -%}
            {%- do failures.append({'column': column.name, 'condition': raw ~ ' is not null and parsed.' ~ column.name ~ ' is null', 'reason': "'cannot parse as " ~ column.data_type ~ "'"}) -%}
        {%- endif -%}
        {%- if column.meta.get('accepted_values') -%}
            {%- do failures.append({'column': column.name, 'condition': raw ~ ' is not null and lower(' ~ raw ~ ") not in ('" ~ column.meta.accepted_values | join("', '") ~ "')", 'reason': "'unknown value'"}) -%}
        {%- endif -%}
    {%- endfor %}

with

raw_rows as (
    {{ crm_kpi.raw_relation(table_name) }}
),

raw_texts as (
    select
    {%- for column in columns %}
        nullif(trim(cast({{ column.name }} as {{ dbt.type_string() }})), '') as {{ column.name }}{{ "," if not loop.last }}
    {%- endfor %}
    from raw_rows
),

{#- Each column parsed once; its trimmed text kept beside it for the checks and the quarantine report. #}
parsed as (
    select
    {%- for column in columns %}
        {{ crm_kpi.cast_raw_text('raw_texts.' ~ column.name, column) }} as {{ column.name }},
        raw_texts.{{ column.name }} as {{ column.name }}__text{{ "," if not loop.last }}
    {%- endfor %}
    from raw_texts
    {%- if event_time %}
    {#- Filtered before the other columns are parsed: the window costs one column's parse of the file. #}
    {%- set event_column = columns | selectattr('name', 'equalto', event_time) | first if execute else none %}
    where {{ crm_kpi.in_base_window(crm_kpi.cast_raw_text('raw_texts.' ~ event_time, event_column) if execute else none) }}
    {%- endif %}
),

typed as (
    select
    {%- for column in columns %}
        parsed.{{ column.name }},
    {%- endfor %}
        {{ dbt.concat(crm_kpi.coalesced_texts(primary_key)) if primary_key else "cast(null as " ~ dbt.type_string() ~ ")" }} as record_id,
        case
        {%- for failure in failures %}
            when {{ failure.condition }} then '{{ failure.column }}'
        {%- endfor %}
        end as parse_failure_column,
        case
        {%- for failure in failures %}
            when {{ failure.condition }} then {{ failure.reason }}
        {%- endfor %}
        end as parse_failure_reason,
        case
        {%- for failure in failures %}
            when {{ failure.condition }} then parsed.{{ failure.column }}__text
        {%- endfor %}
        end as parse_failure_value
    from parsed
),
{%- if money %}

exchange_rates as (
    select * from {{ ref('stg_crm__exchange_rates') }}
),
{%- endif %}

converted as (
    select
    {%- for column in columns %}
        {%- if column.name in money_columns %}
        typed.{{ column.name }} * {{ crm_kpi.rate_alias(money, column.name) }}.rate_to_reporting as {{ column.name }},
        typed.{{ column.name }} as original_{{ column.name }},
        {%- elif money and column.name == money[0].currency %}
        upper(typed.{{ column.name }}) as original_currency,
        {%- else %}
        typed.{{ column.name }},
        {%- endif %}
    {%- endfor %}
        typed.record_id,
        typed.parse_failure_column,
        typed.parse_failure_reason,
        typed.parse_failure_value
        {%- for spec in money %},
        {{ crm_kpi.rate_alias(money, spec.amount[0]) }}.rate_to_reporting as exchange_rate{{ '_' ~ loop.index if loop.length > 1 }}
        {%- endfor %}
    from typed
    {%- for spec in money %}
    {%- set alias = crm_kpi.rate_alias(money, spec.amount[0]) %}
    left join (
        select
            currency,
            valid_from,
            valid_to,
            rate_to_reporting
        from exchange_rates
        where currency <> '{{ var("reporting_currency") | upper }}'
        union all
        select
            '{{ var("reporting_currency") | upper }}' as currency,
            cast('1900-01-01' as date) as valid_from,
            cast('9999-12-31' as date) as valid_to,
            1.0 as rate_to_reporting
    ) as {{ alias }}
        on upper(typed.{{ spec.currency }}) = {{ alias }}.currency
        and {{ spec.on }} >= {{ alias }}.valid_from
        and {{ spec.on }} < {{ alias }}.valid_to
    {%- endfor %}
),

checked as (
    select
        converted.*,
        case
            when converted.parse_failure_column is not null then converted.parse_failure_column
        {%- for spec in money %}
            when converted.{{ spec.amount[0] }} is null and converted.original_{{ spec.amount[0] }} is not null then '{{ spec.currency }}'
        {%- endfor %}
        {%- for check in checks %}
            when {{ check.condition }} then '{{ check.column }}'
        {%- endfor %}
        end as quarantine_column,
        case
            when converted.parse_failure_column is not null then converted.parse_failure_reason
        {%- for spec in money %}
            when converted.{{ spec.amount[0] }} is null and converted.original_{{ spec.amount[0] }} is not null
                then 'no exchange rate to {{ var("reporting_currency") }} on or before the event date'
        {%- endfor %}
        {%- for check in checks %}
            when {{ check.condition }} then '{{ check.reason }}'
        {%- endfor %}
        end as quarantine_reason,
        case
            when converted.parse_failure_column is not null then converted.parse_failure_value
        {%- for spec in money %}
            when converted.{{ spec.amount[0] }} is null and converted.original_{{ spec.amount[0] }} is not null
                then cast(converted.original_currency as {{ dbt.type_string() }})
        {%- endfor %}
        {%- for check in checks %}
            when {{ check.condition }} then cast(converted.{{ check.column }} as {{ dbt.type_string() }})
        {%- endfor %}
        end as quarantine_value
    from converted
)

select * from checked
{%- endmacro %}


{# Cast a column's raw text to the column's contract type (null when it does not parse). #}
{% macro cast_raw_text(text_expr, column) -%}
    {%- set data_type = column.data_type -%}
    {%- if column.meta.get('accepted_values') or column.meta.get('lowercase') -%}
        lower({{ text_expr }})
    {%- elif data_type == 'timestamp' -%}
        {{ crm_kpi.to_utc_timestamp(text_expr) }}
    {%- elif data_type == 'date' -%}
        {{ crm_kpi.try_cast(text_expr, 'date') }}
    {%- elif data_type == 'decimal' -%}
        {{ crm_kpi.try_cast(text_expr, crm_kpi.type_double()) }}
    {%- elif data_type == 'integer' -%}
        {{ crm_kpi.try_cast(text_expr, 'bigint') }}
    {%- elif data_type == 'boolean' -%}
        {{ crm_kpi.parse_boolean(text_expr) }}
    {%- else -%}
        {{ text_expr }}
    {%- endif -%}
{%- endmacro %}


{% macro parse_boolean(text_expr) -%}
    case
        when lower({{ text_expr }}) in ('true', 't', '1', 'yes', 'y') then true
        when lower({{ text_expr }}) in ('false', 'f', '0', 'no', 'n') then false
    end
{%- endmacro %}


{% macro coalesced_texts(column_names) -%}
    {%- set parts = [] -%}
    {%- for name in column_names -%}
        {%- if not loop.first %}{% do parts.append("'|'") %}{% endif -%}
        {%- do parts.append("coalesce(parsed." ~ name ~ "__text, '')") -%}
    {%- endfor -%}
    {{ return(parts) }}
{%- endmacro %}


{% macro rate_alias(money, amount_column) -%}
    {%- for spec in money -%}
        {%- if amount_column in spec.amount -%}{{ return('rates_' ~ loop.index) }}{%- endif -%}
    {%- endfor -%}
{%- endmacro %}
