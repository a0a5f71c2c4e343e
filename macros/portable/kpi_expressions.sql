{#
    Fractional days from one timestamp to a later one (negative when the second is earlier), as a double.
    Divided by a double, not by the literal 86400.0: Spark reads that as a decimal and rounds the
    quotient to 8 decimal places, which made its medians differ from DuckDB's and PostgreSQL's.
#}
{% macro days_between(start_expr, end_expr) -%}
    (cast({{ dbt.datediff(start_expr, end_expr, 'second') }} as {{ crm_kpi.type_double() }}) / 86400)
{%- endmacro %}

{# First day of the month of a date or timestamp, as a date. #}
{% macro month_of(expr) -%}
    cast({{ dbt.date_trunc('month', expr) }} as date)
{%- endmacro %}

{# Money at the mart: rounded half away from zero to cents, through a decimal so that every engine rounds alike. #}
{% macro money(expr) -%}
    cast(round(cast({{ expr }} as decimal(28, 8)), 2) as decimal(18, 2))
{%- endmacro %}

{# A ratio that is null (never 0, never an error) when the denominator is 0 or null. #}
{% macro safe_divide(numerator, denominator) -%}
    (cast({{ numerator }} as {{ crm_kpi.type_double() }}) / nullif(cast({{ denominator }} as {{ crm_kpi.type_double() }}), 0))
{%- endmacro %}

{# A 64-bit float (dbt.type_float() is a 32-bit FLOAT on DuckDB, too coarse for rates). #}
{% macro type_double() -%}
    {{ return(adapter.dispatch('type_double', 'crm_kpi')()) }}
{%- endmacro %}

{% macro default__type_double() -%}
    double precision
{%- endmacro %}

{% macro duckdb__type_double() -%}
    double
{%- endmacro %}

{% macro spark__type_double() -%}
    double
{%- endmacro %}
