{#
    Every user var, checked where it is read and all at once at the start of a run, under `crm-kpi run` and a
    plain `dbt build` alike: var_rules says what each may hold, checked_var(name) returns the value checked
    and typed (an integer, a number, a date text, an identifier part), and every model and macro reads a
    user var through it, never through var() with a `| int` or `| float` filter (Jinja turns "three" into
    0 silently). validate_vars (on-run-start) checks every rule before any model runs, so a bad value fails
    the run at once, naming the var, what it holds and what it should hold. No var is written into SQL raw:
    dates are YYYY-MM-DD, the currency three letters, the schema prefix a plain identifier part, numbers
    are rendered from their parsed value.
#}
{% macro var_rules() -%}
    {{ return({
        'as_of_date': {'kind': 'date', 'empty': true, 'meaning': 'a date YYYY-MM-DD, or empty for the last date in the data'},
        'earliest_plausible_date': {'kind': 'date', 'meaning': 'a date YYYY-MM-DD'},
        'latest_plausible_date': {'kind': 'date', 'meaning': 'a date YYYY-MM-DD'},
        'reporting_currency': {'kind': 'text', 'pattern': '^[A-Za-z]{3}$', 'meaning': 'an ISO 4217 code of three letters'},
        'schema_prefix': {'kind': 'text', 'pattern': '^[a-z0-9_]*$', 'meaning': 'lower-case letters, digits and underscores'},
        'incremental_lookback_days': {'kind': 'whole', 'min': 0, 'max': 36500, 'meaning': 'a whole number of days, 0 to 36500'},
        'incremental_lookback_days_invoices': {'kind': 'whole', 'min': 0, 'max': 36500, 'meaning': 'a whole number of days, 0 to 36500'},
        'attribution_window_days': {'kind': 'whole', 'min': 0, 'max': 36500, 'meaning': 'a whole number of days, 0 to 36500'},
        'follow_up_days': {'kind': 'number', 'min': 0, 'max': 36500, 'meaning': 'a number of days, 0 to 36500'},
        'opportunity_score_stale_after_days': {'kind': 'whole', 'min': 1, 'max': 36500, 'meaning': 'a whole number of days, 1 to 36500'},
        'clv_trailing_months': {'kind': 'whole', 'min': 1, 'max': 1200, 'meaning': 'a whole number of months, 1 to 1200'},
        'enps_min_responses': {'kind': 'whole', 'min': 2, 'max': 1000000, 'meaning': 'a whole number of respondents, at least 2 (fewer would let a score name a person)'},
        'campaign_overhead_rate': {'kind': 'number', 'min': 0, 'max': 100, 'meaning': 'a fraction of spend, 0 to 100'},
        'fiscal_year_start_month': {'kind': 'whole', 'min': 1, 'max': 12, 'meaning': 'a month number 1-12'},
        'publish_max_quarantine_share': {'kind': 'number', 'min': 0, 'max': 1, 'meaning': 'a share 0-1 of a raw table\'s rows'},
        'publish_max_row_change': {'kind': 'number', 'min': 0, 'max': 1000000000, 'meaning': 'a relative change, 0 or more'},
        'publish_max_kpi_change': {'kind': 'number', 'min': 0, 'max': 1000000000, 'meaning': 'a relative change, 0 or more'},
        'publish_guard_min_rows': {'kind': 'whole', 'min': 0, 'max': 1000000000, 'meaning': 'a whole number of rows'},
        'opportunity_score_weights': {'kind': 'weights', 'keys': ['stage', 'amount', 'age', 'activity', 'fit'], 'meaning': 'a mapping of stage, amount, age, activity and fit to non-negative numbers, at least one positive'},
    }) }}
{%- endmacro %}

{% macro checked_var(name) -%}
    {%- set rule = crm_kpi.var_rules()[name] -%}
    {%- set value = var(name, '') -%}
    {%- set problem = crm_kpi.var_message(name) -%}
    {%- if problem and execute -%}
        {{ exceptions.raise_compiler_error(problem) }}
    {%- elif problem -%}
        {#- Parsing (dbt renders every model to find its refs): a stand-in, so that the run goes on to
            validate_vars, which names every bad var at once before any SQL runs. -#}
        {%- set stand_ins = {'whole': rule.get('min'), 'number': rule.get('min'), 'date': '' if rule.get('empty') else '2000-01-01', 'text': ''} -%}
        {{ return(stand_ins.get(rule.kind, {'stage': 1.0, 'amount': 1.0, 'age': 1.0, 'activity': 1.0, 'fit': 1.0})) }}
    {%- endif -%}
    {%- if rule.kind == 'whole' -%}
        {{ return(value | string | int) }}
    {%- elif rule.kind == 'number' -%}
        {{ return(value | string | float) }}
    {%- elif rule.kind == 'weights' -%}
        {%- set weights = {} -%}
        {%- for key in rule['keys'] -%}
            {%- do weights.update({key: value[key] | string | float}) -%}
        {%- endfor -%}
        {{ return(weights) }}
    {%- else -%}
        {{ return(value | string) }}
    {%- endif -%}
{%- endmacro %}

{#- The message naming a bad var, its value and what it should hold, or '' when the value is valid. -#}
{% macro var_message(name) -%}
    {%- set rule = crm_kpi.var_rules()[name] -%}
    {%- set value = var(name, '') -%}
    {%- set problem = crm_kpi.var_problem(name, value, rule) -%}
    {%- if not problem -%}
        {{ return('') }}
    {%- endif -%}
    {{ return("var " ~ name ~ " = " ~ (value if value is number or value is mapping else '"' ~ value ~ '"') ~ " is not valid: expected " ~ rule.meaning ~ (" (" ~ problem ~ ")" if problem != 'format' else "")) }}
{%- endmacro %}

{#- What is wrong with a var's value under its rule ('format', or a range), or '' when nothing is. -#}
{% macro var_problem(name, value, rule) -%}
    {%- set number_pattern = '^[0-9]{1,9}(\\.[0-9]{1,9})?$' -%}
    {%- set date_pattern = '^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$' -%}
    {%- set text = value | string -%}
    {%- if value is boolean or value is mapping and rule.kind != 'weights' -%}
        {{ return('format') }}
    {%- elif rule.kind == 'date' -%}
        {%- if rule.get('empty') and text == '' -%}
            {{ return('') }}
        {%- endif -%}
        {{ return('' if modules.re.match(date_pattern, text) else 'format') }}
    {%- elif rule.kind == 'text' -%}
        {{ return('' if modules.re.match(rule.pattern, text) else 'format') }}
    {%- elif rule.kind in ('whole', 'number') -%}
        {%- if not modules.re.match('^[0-9]{1,9}$' if rule.kind == 'whole' else number_pattern, text) -%}
            {{ return('format') }}
        {%- endif -%}
        {%- set number = text | float -%}
        {{ return('' if rule.min <= number <= rule.max else 'out of range') }}
    {%- elif rule.kind == 'weights' -%}
        {%- if value is not mapping or (value.keys() | list | sort) != (rule['keys'] | sort) -%}
            {{ return('format') }}
        {%- endif -%}
        {%- set ns = namespace(total=0.0) -%}
        {%- for key in rule['keys'] -%}
            {%- if value[key] is boolean or not modules.re.match(number_pattern, value[key] | string) -%}
                {{ return('weight ' ~ key ~ ' is not a non-negative number') }}
            {%- endif -%}
            {%- set ns.total = ns.total + (value[key] | string | float) -%}
        {%- endfor -%}
        {{ return('' if ns.total > 0 else 'every weight is 0') }}
    {%- endif -%}
    {{ return('') }}
{%- endmacro %}

{% macro validate_vars() -%}
    {%- set problems = [] -%}
    {%- for name in crm_kpi.var_rules() -%}
        {%- set message = crm_kpi.var_message(name) -%}
        {%- if message -%}
            {%- do problems.append(message) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if problems -%}
        {{ exceptions.raise_compiler_error(problems | join('; ')) }}
    {%- endif -%}
    {%- set as_of = crm_kpi.checked_var('as_of_date') -%}
    {%- set earliest = crm_kpi.checked_var('earliest_plausible_date') -%}
    {%- set latest = crm_kpi.checked_var('latest_plausible_date') -%}
    {%- if earliest > latest -%}
        {{ exceptions.raise_compiler_error("var earliest_plausible_date = " ~ earliest ~ " is after latest_plausible_date = " ~ latest) }}
    {%- endif -%}
    {%- if as_of and (as_of < earliest or as_of > latest) -%}
        {{ exceptions.raise_compiler_error("var as_of_date = " ~ as_of ~ " is outside the plausible dates " ~ earliest ~ " to " ~ latest) }}
    {%- endif -%}
    select 1
{%- endmacro %}

{# A date var, checked (YYYY-MM-DD) wherever it is written into SQL, as validate_vars checks it. #}
{% macro checked_date_var(var_name) -%}
    {{ return(crm_kpi.checked_var(var_name)) }}
{%- endmacro %}
