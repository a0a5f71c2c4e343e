{#
    How many days (or months) the plausible window spans, from 1 January of the year of
    earliest_plausible_date to 31 December of the year of latest_plausible_date: the length of the
    date and month spines (int_dates_spined, int_calendar_days, int_months_spined), so that every
    as-of date and every date a mart can hold (all inside the window: the rest is quarantined) has
    its day, whatever the first data date.
#}
{% macro plausible_span(unit) -%}
    {%- set first_year = crm_kpi.checked_var('earliest_plausible_date')[:4] | int -%}
    {%- set last_year = crm_kpi.checked_var('latest_plausible_date')[:4] | int -%}
    {%- if unit == 'month' -%}
        {{ return((last_year - first_year + 1) * 12) }}
    {%- endif -%}
    {%- set first_day = modules.datetime.date(first_year, 1, 1) -%}
    {%- set last_day = modules.datetime.date(last_year, 12, 31) -%}
    {{ return((last_day - first_day).days + 1) }}
{%- endmacro %}
