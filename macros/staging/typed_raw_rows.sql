{#
    The first step of staging for one raw table, written once for all of them: every raw row, with
    each contract column cast from text to its type (from the sources YAML: data_type and meta), enums
    trimmed and lower-cased, timestamps in UTC, money converted to the reporting currency, and the
    first reason (if any) that the row must be quarantined:

        quarantine_column  the column at fault
        quarantine_reason  why (missing required value, cannot parse, unknown value, no exchange rate, ...)
        quarantine_value   the raw text of that column
        record_id          the row's primary key as text, each key column as parsed (for the report)
        source_row_number  the row's 1-based position in the raw file

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

    Beyond the contract's per-column checks, every table gets: decimals finite and below the
    source's decimal_magnitude_limit (NaN, Infinity, 1e20 refused); integers whole (7.5 refused,
    never rounded); dates and timestamps inside the plausible window (vars earliest_plausible_date,
    latest_plausible_date); required references of an entity table to a staged record of the other
    table (the reference_checks).

    Conflicting duplicates (an entity table, not an event table): rows of one record with the same
    version (updated_at; a table without one: every row of the record) whose values differ once
    parsed are all quarantined, naming the columns that differ: which one is right cannot be told,
    and the file's row order must not decide. Rows that are equal once parsed (`SQL` and `sql`, `Z`
    and `+00:00`, `1.50` and `1.5`) are copies: staging keeps one. The event tables resolve their
    conflicts in staging instead (see event_conflict_order), because their incremental base models
    do not re-read the older rows of a record.

    Every base model is a table of every row of its file, rebuilt at each run: the row numbers, the
    quarantine and the row accounting are those of the file as it is now (the event tables' staging
    models and facts are the incremental ones).
#}
{% macro typed_raw_rows(table_name) -%}
    {%- set query = crm_kpi.typed_raw_rows_query(table_name) -%}
    {%- if crm_kpi.raw_input_is_unchanged(table_name, query) -%}
    {#- The file, the lookups it reads and this query are those of the last build: the table keeps its rows. #}
    select * from {{ this }} where 1 = 0
    {%- else -%}
    {{ query }}
    {%- endif -%}
{%- endmacro %}


{#- typed_raw_rows' query, whatever the last build read (see the header). -#}
{% macro typed_raw_rows_query(table_name) -%}
    {%- set event_time = config.get('event_time') -%}
    {%- set lookups = {} -%}
    {%- for model in crm_kpi.raw_table_lookups(table_name) -%}
        {%- do lookups.update({model: ref(model)}) -%}
    {%- endfor -%}
    {%- set node = crm_kpi.raw_source_node(table_name) if execute else none -%}
    {%- set columns = node.columns.values() | list if execute else [] -%}
    {%- set primary_key = node.meta.get('primary_key', []) if execute else [] -%}
    {%- set version = crm_kpi.record_version_column(table_name) if execute else none -%}
    {%- set money_columns = node.meta.get('money', []) if execute else [] -%}
    {%- set money = [{'amount': money_columns, 'currency': 'currency', 'on': 'cast(typed.' ~ node.meta.money_date ~ ' as date)'}] if money_columns else [] -%}
    {%- set checks = crm_kpi.contract_checks(node, money_columns, lookups) if execute else [] -%}
    {%- set decimal_limit = node.source_meta.get('decimal_magnitude_limit') if execute else none -%}
    {%- set decimal_reason = node.source_meta.get('decimal_reason') if execute else none -%}
    {%- set earliest = crm_kpi.plausible_date('earliest_plausible_date') -%}
    {%- set latest = crm_kpi.plausible_date('latest_plausible_date') -%}
    {%- set failures = [] -%}
    {%- set converted_names = [] -%}
    {%- for column in columns -%}
        {%- set raw = 'parsed.' ~ column.name ~ '__text' -%}
        {%- set value = 'parsed.' ~ column.name -%}
        {%- if not column.meta.get('nullable', false) -%}
            {%- do failures.append({'column': column.name, 'condition': raw ~ ' is null', 'reason': "'missing required value'"}) -%}
        {%- endif -%}
        {%- if column.data_type != 'string' -%}
            {%- do failures.append({'column': column.name, 'condition': raw ~ ' is not null and ' ~ value ~ ' is null', 'reason': "'cannot parse as " ~ column.data_type ~ "'"}) -%}
        {%- endif -%}
        {%- if column.meta.get('accepted_values') -%}
            {%- do failures.append({'column': column.name, 'condition': raw ~ ' is not null and lower(' ~ raw ~ ") not in ('" ~ column.meta.accepted_values | join("', '") ~ "')", 'reason': "'unknown value'"}) -%}
        {%- endif -%}
        {%- if column.data_type == 'decimal' -%}
            {%- do failures.append({'column': column.name, 'condition': value ~ ' is not null and not (abs(' ~ value ~ ') < ' ~ decimal_limit ~ ')', 'reason': "'" ~ decimal_reason ~ "'"}) -%}
        {%- endif -%}
        {%- if column.data_type in ('date', 'timestamp') -%}
            {%- set day = 'cast(' ~ value ~ ' as date)' -%}
            {%- do failures.append({'column': column.name, 'condition': day ~ ' < ' ~ earliest ~ ' or ' ~ day ~ ' > ' ~ latest, 'reason': "'outside the plausible dates (" ~ crm_kpi.checked_var('earliest_plausible_date') ~ " to " ~ crm_kpi.checked_var('latest_plausible_date') ~ ", vars earliest_plausible_date and latest_plausible_date)'"}) -%}
        {%- endif -%}
        {%- if column.name in money_columns -%}
            {%- do converted_names.extend([column.name, 'original_' ~ column.name]) -%}
        {%- elif money and column.name == 'currency' -%}
            {%- do converted_names.append('original_currency') -%}
        {%- else -%}
            {%- do converted_names.append(column.name) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- for spec in money -%}
        {%- do converted_names.append('exchange_rate' ~ ('_' ~ loop.index if loop.length > 1 else '')) -%}
    {%- endfor -%}
    {#- Conflicting duplicates are resolved here for entity tables only (see the header). -#}
    {%- set conflicts = execute and not event_time and primary_key -%}
    {%- set record = primary_key + ([version] if version else []) -%}
    {%- set compared = crm_kpi.compared_columns(table_name) %}

with

raw_rows as (
    {{ crm_kpi.raw_relation(table_name) }}
),

raw_texts as (
    select
        cast(source_row_number as {{ dbt.type_bigint() }}) as source_row_number,
    {%- for column in columns %}
        nullif(trim(cast({{ column.name }} as {{ dbt.type_string() }})), '') as {{ column.name }}{{ "," if not loop.last }}
    {%- endfor %}
    from raw_rows
),

{#- Each column parsed once; its trimmed text kept beside it for the checks and the quarantine report. #}
parsed as (
    select
        raw_texts.source_row_number,
    {%- for column in columns %}
        {{ crm_kpi.cast_raw_text('raw_texts.' ~ column.name, column) }} as {{ column.name }},
        raw_texts.{{ column.name }} as {{ column.name }}__text{{ "," if not loop.last }}
    {%- endfor %}
    from raw_texts
),

typed as (
    select
    {%- for column in columns %}
        parsed.{{ column.name }},
    {%- endfor %}
        {{ dbt.concat(crm_kpi.record_key_parts(primary_key)) if primary_key else "cast(null as " ~ dbt.type_string() ~ ")" }} as record_id,
        parsed.source_row_number,
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
{%- for column in crm_kpi.quarantining_references(node) %}

keys_{{ column.name }} as (
    {{ crm_kpi.record_keys(column.meta.references, lookups['base_crm__' ~ column.meta.references]) }}
),
{%- endfor %}

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
        typed.source_row_number,
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
        where currency <> '{{ crm_kpi.checked_var("reporting_currency") | upper }}'
        union all
        select
            '{{ crm_kpi.checked_var("reporting_currency") | upper }}' as currency,
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
                then 'no exchange rate to {{ crm_kpi.checked_var("reporting_currency") }} on or before the event date'
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
{%- if not conflicts %}

select * from checked
{%- else %},

{#- Records with more than one valid row of one version, then those whose rows differ, and in what. #}
repeated as (
    select {{ record | join(', ') }}
    from checked
    where quarantine_reason is null
    group by {{ record | join(', ') }}
    having count(*) > 1
),

conflicting as (
    select
        {{ record | join(', ') }},
        {%- for name in compared %}
        count(distinct coalesce(cast({{ name }} as {{ dbt.type_string() }}), '(null)')) > 1 as {{ name }}__differs,
        {%- endfor %}
        count(*) as conflicting_rows
    from checked
    where quarantine_reason is null and ({{ record | join(', ') }}) in (select {{ record | join(', ') }} from repeated)
    group by {{ record | join(', ') }}
    having {% for name in compared %}count(distinct coalesce(cast({{ name }} as {{ dbt.type_string() }}), '(null)')) > 1{{ ' or ' if not loop.last }}{% else %}false{% endfor %}
),

final as (
    select
        {%- for name in converted_names %}
        checked.{{ name }},
        {%- endfor %}
        checked.record_id,
        checked.source_row_number,
        checked.parse_failure_column,
        checked.parse_failure_reason,
        checked.parse_failure_value,
        case
            when conflicting.conflicting_rows is null then checked.quarantine_column
        {%- for name in compared %}
            when conflicting.{{ name }}__differs then '{{ name | replace('original_', '') }}'
        {%- endfor %}
        end as quarantine_column,
        case
            when conflicting.conflicting_rows is null then checked.quarantine_reason
            else {{ dbt.concat(["'conflicting duplicate: '", "cast(conflicting.conflicting_rows as " ~ dbt.type_string() ~ ")", "' rows with the same " ~ record | join(' and ') ~ " differ in '", "concat_ws(', '" ~ crm_kpi.differing_names(compared) ~ ")"]) }}
        end as quarantine_reason,
        case
            when conflicting.conflicting_rows is null then checked.quarantine_value
        {%- for name in compared %}
            when conflicting.{{ name }}__differs then cast(checked.{{ name }} as {{ dbt.type_string() }})
        {%- endfor %}
        end as quarantine_value
    from checked
    left join conflicting
        on
        {%- for name in record %}
            {{ 'and ' if not loop.first }}checked.{{ name }} = conflicting.{{ name }}
        {%- endfor %}
            and checked.quarantine_reason is null
)

select * from final
{%- endif %}
{%- endmacro %}


{#- `, case when conflicting.<c>__differs then '<c>' end` for each compared column (concat_ws skips nulls). -#}
{% macro differing_names(compared) -%}
    {%- for name in compared %}, case when conflicting.{{ name }}__differs then '{{ name | replace('original_', '') }}' end{% endfor -%}
{%- endmacro %}


{#- A plausible-date var as a SQL date literal (validated by validate_vars at the start of the run). -#}
{% macro plausible_date(var_name) -%}
    {{ return("cast('" ~ crm_kpi.checked_date_var(var_name) ~ "' as date)") }}
{%- endmacro %}


{#
    The contract's value checks of a raw table (see typed_raw_rows) as a list of {column, condition,
    reason}; a condition is true for an invalid row and reads the columns of the `converted` CTE (and,
    for a required reference, the CTE live_<column> of the other table's live keys).
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
        {%- if meta.get('minimum') is not none %}{% do conditions.append(value ~ (' <= ' if meta.get('exclusive_minimum') else ' < ') ~ meta.minimum) %}{% endif -%}
        {%- if meta.get('maximum') is not none %}{% do conditions.append(value ~ ' > ' ~ meta.maximum) %}{% endif -%}
        {%- if meta.get('after') %}{% do conditions.append(value ~ ' <= converted.' ~ meta.after) %}{% endif -%}
        {%- if meta.get('range_by') -%}
            {%- for by_value, bounds in meta.range_by.ranges.items() -%}
                {%- do conditions.append("(converted." ~ meta.range_by.column ~ " = '" ~ by_value ~ "' and (" ~ value ~ ' < ' ~ bounds[0] ~ ' or ' ~ value ~ ' > ' ~ bounds[1] ~ '))') -%}
            {%- endfor -%}
        {%- endif -%}
        {%- do checks.append({'column': column.name, 'condition': '(' ~ conditions | join(' or ') ~ ')', 'reason': meta.check_reason}) -%}
    {%- endfor -%}
    {#- Required references of an entity table: to a staged record of the other table, when it has any. -#}
    {%- for column in crm_kpi.quarantining_references(node) -%}
        {%- set keys = 'keys_' ~ column.name -%}
        {%- set value = 'converted.' ~ column.name -%}
        {%- do checks.append({'column': column.name, 'condition': value ~ ' in (select record_key from ' ~ keys ~ ' where not is_live)', 'reason': column.meta.reference_reasons.deleted}) -%}
        {%- do checks.append({'column': column.name, 'condition': '(' ~ value ~ ' not in (select record_key from ' ~ keys ~ ' where is_live) and (select count(*) from ' ~ keys ~ ') > 0)', 'reason': column.meta.reference_reasons.absent}) -%}
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
        {#- A whole number (7 or 7.0; 7.5 does not parse, it is never rounded) below the magnitude limit. -#}
        {%- set number = crm_kpi.try_cast(text_expr, crm_kpi.type_double()) -%}
        {%- set limit = crm_kpi.raw_source_node(crm_kpi.raw_table_names()[0]).source_meta.integer_magnitude_limit -%}
        case when {{ number }} = floor({{ number }}) and abs({{ number }}) < {{ limit }} then cast({{ number }} as bigint) end
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


{#- The parts of a record_id: each key column as parsed (its raw text when it does not parse), with '|' between. -#}
{% macro record_key_parts(column_names) -%}
    {%- set parts = [] -%}
    {%- for name in column_names -%}
        {%- if not loop.first %}{% do parts.append("'|'") %}{% endif -%}
        {%- do parts.append("coalesce(cast(parsed." ~ name ~ " as " ~ dbt.type_string() ~ "), parsed." ~ name ~ "__text, '')") -%}
    {%- endfor -%}
    {{ return(parts) }}
{%- endmacro %}


{% macro rate_alias(money, amount_column) -%}
    {%- for spec in money -%}
        {%- if amount_column in spec.amount -%}{{ return('rates_' ~ loop.index) }}{%- endif -%}
    {%- endfor -%}
{%- endmacro %}
