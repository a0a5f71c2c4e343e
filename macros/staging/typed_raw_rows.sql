{#
    The first step of staging for one raw table, written once for all of them: every raw row, with
    each contract column cast from text to its type (from the sources YAML: data_type and meta), enums
    trimmed and lower-cased, timestamps in UTC, money converted to the reporting currency, and the
    first reason (if any) that the row must be quarantined:

        quarantine_column  the column at fault
        quarantine_reason  why (missing required value, cannot parse, unknown value, no exchange rate, ...)
        quarantine_value   the raw text of that column
        record_id          the row's primary key as text (for the quarantine report)

    Everything comes from the raw contract (src/crm_kpi/contract.py, rendered into the source's meta):
        table meta   money: the columns converted into the reporting currency with the table's
                     `currency` at the rate of money_date's day (the original value stays as
                     original_<column>, the currency as original_currency, the rate as exchange_rate);
                     one_of: columns of which at least one must be present
        column meta  nullable, accepted_values, lowercase (enums); lookup (the value must be a key of
                     that staged table: stages); minimum / maximum, range_by (a range per value of
                     another column), after (a date after another column's); check_reason names the
                     failed check. Money is range-checked as exported, before conversion.
    The staging models it looks values up in (exchange rates, stages) are the two lookup joins of
    staging (raw_table_lookups, rendered from the contract so the refs are known at parse time).

    An incremental base model (its event time in dbt's event_time config) keeps only the rows of the
    window on an incremental run (see in_base_window).
#}
{% macro typed_raw_rows(table_name) -%}
    {%- set event_time = config.get('event_time') -%}
    {%- set lookups = {} -%}
    {%- for model in crm_kpi.raw_table_lookups(table_name) -%}
        {%- do lookups.update({model: ref(model)}) -%}
    {%- endfor -%}
    {%- set node = crm_kpi.raw_source_node(table_name) if execute else none -%}
    {%- set columns = node.columns.values() | list if execute else [] -%}
    {%- set primary_key = node.meta.get('primary_key', []) if execute else [] -%}
    {%- set money_columns = node.meta.get('money', []) if execute else [] -%}
    {%- set money = [{'amount': money_columns, 'currency': 'currency', 'on': 'cast(typed.' ~ node.meta.money_date ~ ' as date)'}] if money_columns else [] -%}
    {%- set checks = crm_kpi.contract_checks(node, money_columns, lookups) if execute else [] -%}
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
    select * from {{ lookups['stg_crm__exchange_rates'] }}
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


{#
    The contract's value checks of a raw table (see typed_raw_rows) as a list of {column, condition,
    reason}; a condition is true for an invalid row and reads the columns of the `converted` CTE.
#}
{% macro contract_checks(node, money_columns, lookups) -%}
    {%- set checks = [] -%}
    {%- if node.meta.get('one_of') -%}
        {%- set missing = [] -%}
        {%- for name in node.meta.one_of %}{% do missing.append('converted.' ~ name ~ ' is null') %}{% endfor -%}
        {%- do checks.append({'column': node.meta.one_of[0], 'condition': missing | join(' and '), 'reason': 'one of ' ~ node.meta.one_of | join(', ') ~ ' is required'}) -%}
    {%- endif -%}
    {%- for column in node.columns.values() if column.meta.get('check_reason') -%}
        {%- set meta = column.meta -%}
        {%- set value = 'converted.' ~ ('original_' if column.name in money_columns else '') ~ column.name -%}
        {%- set conditions = [] -%}
        {%- if meta.get('lookup') -%}
            {%- set parent = crm_kpi.raw_source_node(meta.lookup).meta.primary_key[0] -%}
            {%- do conditions.append(value ~ ' not in (select ' ~ parent ~ ' from ' ~ lookups['stg_crm__' ~ meta.lookup] ~ ')') -%}
        {%- endif -%}
        {%- if meta.get('minimum') is not none %}{% do conditions.append(value ~ ' < ' ~ meta.minimum) %}{% endif -%}
        {%- if meta.get('maximum') is not none %}{% do conditions.append(value ~ ' > ' ~ meta.maximum) %}{% endif -%}
        {%- if meta.get('after') %}{% do conditions.append(value ~ ' <= converted.' ~ meta.after) %}{% endif -%}
        {%- if meta.get('range_by') -%}
            {%- for by_value, bounds in meta.range_by.ranges.items() -%}
                {%- do conditions.append("(converted." ~ meta.range_by.column ~ " = '" ~ by_value ~ "' and (" ~ value ~ ' < ' ~ bounds[0] ~ ' or ' ~ value ~ ' > ' ~ bounds[1] ~ '))') -%}
            {%- endfor -%}
        {%- endif -%}
        {%- do checks.append({'column': column.name, 'condition': '(' ~ conditions | join(' or ') ~ ')', 'reason': meta.check_reason}) -%}
    {%- endfor -%}
    {{ return(checks) }}
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
