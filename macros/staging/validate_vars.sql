{#
    on-run-start: every var that reaches SQL as text is checked before any model runs, so a value from
    a user (`--vars`, `crm-kpi run --as-of`) can neither break a query nor inject into it: dates are
    YYYY-MM-DD, the currency three letters, the schema prefix a plain identifier part, lookbacks whole
    numbers. A bad value fails the run at once, naming the var.
#}
{% macro validate_vars() -%}
    {%- set date_pattern = '^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$' -%}
    {%- set rules = [
        ('as_of_date', '^$|' ~ date_pattern, 'a date YYYY-MM-DD, or empty for the last date in the data'),
        ('earliest_plausible_date', date_pattern, 'a date YYYY-MM-DD'),
        ('latest_plausible_date', date_pattern, 'a date YYYY-MM-DD'),
        ('reporting_currency', '^[A-Za-z]{3}$', 'an ISO 4217 code of three letters'),
        ('schema_prefix', '^[a-z0-9_]*$', 'lower-case letters, digits and underscores'),
        ('incremental_lookback_days', '^[0-9]{1,5}$', 'a whole number of days'),
        ('incremental_lookback_days_invoices', '^[0-9]{1,5}$', 'a whole number of days'),
    ] -%}
    {%- for name, pattern, meaning in rules -%}
        {%- set value = var(name, '') | string -%}
        {%- if not modules.re.match(pattern, value) -%}
            {{ exceptions.raise_compiler_error("var " ~ name ~ " = " ~ value ~ " is not valid: expected " ~ meaning) }}
        {%- endif -%}
    {%- endfor -%}
    {%- set as_of = var('as_of_date', '') -%}
    {%- if as_of and (as_of < var('earliest_plausible_date') or as_of > var('latest_plausible_date')) -%}
        {{ exceptions.raise_compiler_error("var as_of_date = " ~ as_of ~ " is outside the plausible dates " ~ var('earliest_plausible_date') ~ " to " ~ var('latest_plausible_date')) }}
    {%- endif -%}
    select 1
{%- endmacro %}

{# A date var, checked (YYYY-MM-DD) wherever it is written into SQL, as validate_vars checks it. #}
{% macro checked_date_var(var_name) -%}
    {%- set value = var(var_name) | string -%}
    {%- if not modules.re.match('^[0-9]{4}-[0-9]{2}-[0-9]{2}$', value) -%}
        {{ exceptions.raise_compiler_error("var " ~ var_name ~ " = " ~ value ~ " is not a date YYYY-MM-DD") }}
    {%- endif -%}
    {{ return(value) }}
{%- endmacro %}
