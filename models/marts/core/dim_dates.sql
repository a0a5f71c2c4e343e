{#-
    The date table for BI tools: one row per day of the date spine, with its Gregorian month, quarter
    and year, its ISO week (Monday to Sunday, numbered in the year that holds its Thursday), a fiscal
    year that starts in the month of var('fiscal_year_start_month') and is named after the calendar
    year in which it ends, and its Solar Hijri (Persian) date. Solar Hijri: 1 Farvardin (Nowruz) of the Persian year that starts in Gregorian year gy falls on
    March `march_day`, computed with the arithmetic of the Jalaali calendar (Borkowski's algorithm, the
    one behind the common jalaali libraries) for the span in which its leap years follow the plain
    33-year cycle, Persian years 1210 to 1634 (Gregorian 1831 to 2255; outside it the Persian columns
    are null):
        n        = gy - 1831                                   (Persian years since 1210)
        leap_j   = 294 + 8 * floor(n / 33) + floor((n % 33 + 3) / 4)
        leap_g   = floor(gy / 4) - floor((floor(gy / 100) + 1) * 3 / 4) - 150
        march_day = 20 + leap_j - leap_g
    Months 1-6 have 31 days, 7-11 have 30, Esfand (12) 29 or 30. Integer division is floor() of a double
    (the same on every engine); dbt.dateadd intervals are parenthesised (dbt-spark multiplies by 12).
-#}
{%- set fiscal_start = crm_kpi.checked_var('fiscal_year_start_month') -%}
{%- set month_names = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'] -%}
{%- set persian_month_names = ['Farvardin', 'Ordibehesht', 'Khordad', 'Tir', 'Mordad', 'Shahrivar', 'Mehr', 'Aban', 'Azar', 'Dey', 'Bahman', 'Esfand'] -%}
{%- set persian_month_names_fa = ['فروردین', 'اردیبهشت', 'خرداد', 'تیر', 'مرداد', 'شهریور', 'مهر', 'آبان', 'آذر', 'دی', 'بهمن', 'اسفند'] -%}
with

dates as (
    select * from {{ ref('int_calendar_days') }}
),

gregorian as (
    select
        date_day,
        is_after_as_of,
        {{ crm_kpi.month_of('date_day') }} as month_start,
        cast({{ dbt.date_trunc('quarter', 'date_day') }} as date) as quarter_start,
        cast({{ dbt.date_trunc('year', 'date_day') }} as date) as year_start,
        cast({{ dbt.date_trunc('week', 'date_day') }} as date) as week_start,
        cast(extract(year from date_day) as integer) as year_number,
        cast(extract(quarter from date_day) as integer) as quarter_number,
        cast(extract(month from date_day) as integer) as month_number
    from dates
),

iso_weeks as (
    select
        gregorian.*,
        -- The ISO week belongs to the year of its Thursday.
        cast({{ dbt.dateadd('day', 3, 'gregorian.week_start') }} as date) as week_thursday
    from gregorian
),

-- Nowruz of every Gregorian year the spine touches, and of the year before each.
gregorian_years as (
    select distinct year_number as gregorian_year from gregorian
    union
    select distinct year_number - 1 as gregorian_year from gregorian
),

nowruz_days as (
    select
        gregorian_year,
        20
        + (
            294
            + 8 * cast(floor(cast(gregorian_year - 1831 as {{ crm_kpi.type_double() }}) / 33) as integer)
            + cast(floor(cast((gregorian_year - 1831) % 33 + 3 as {{ crm_kpi.type_double() }}) / 4) as integer)
        )
        - (
            cast(floor(cast(gregorian_year as {{ crm_kpi.type_double() }}) / 4) as integer)
            - cast(
                floor(
                    cast(cast(floor(cast(gregorian_year as {{ crm_kpi.type_double() }}) / 100) as integer) + 1 as {{ crm_kpi.type_double() }})
                    * 3 / 4
                ) as integer
            )
            - 150
        ) as march_day
    from gregorian_years
    where gregorian_year between 1831 and 2255
),

nowruz_dates as (
    select
        nowruz_days.gregorian_year,
        cast({{ dbt.dateadd('day', '(nowruz_days.march_day - 1)', "cast('2000-03-01' as date)") }} as date) as march_day_in_2000,
        nowruz_days.march_day
    from nowruz_days
),

nowruz as (
    select
        nowruz_dates.gregorian_year,
        cast({{ dbt.dateadd('year', '(nowruz_dates.gregorian_year - 2000)', 'nowruz_dates.march_day_in_2000') }} as date) as nowruz_on
    from nowruz_dates
),

persian_years as (
    select
        iso_weeks.date_day,
        case
            when iso_weeks.date_day >= this_year.nowruz_on then this_year.nowruz_on
            else previous_year.nowruz_on
        end as persian_year_start,
        case
            when iso_weeks.date_day >= this_year.nowruz_on then iso_weeks.year_number - 621
            else iso_weeks.year_number - 622
        end as persian_year
    from iso_weeks
    left join nowruz as this_year
        on iso_weeks.year_number = this_year.gregorian_year
    left join nowruz as previous_year
        on iso_weeks.year_number - 1 = previous_year.gregorian_year
    where this_year.nowruz_on is not null and previous_year.nowruz_on is not null
),

persian_days as (
    select
        date_day,
        persian_year,
        persian_year_start,
        cast({{ dbt.datediff('persian_year_start', 'date_day', 'day') }} as integer) as persian_day_of_year
    from persian_years
),

persian as (
    select
        date_day,
        persian_year,
        case
            when persian_day_of_year < 186
                then cast(floor(cast(persian_day_of_year as {{ crm_kpi.type_double() }}) / 31) as integer) + 1
            else cast(floor(cast(persian_day_of_year - 186 as {{ crm_kpi.type_double() }}) / 30) as integer) + 7
        end as persian_month,
        case
            when persian_day_of_year < 186 then persian_day_of_year % 31 + 1
            else (persian_day_of_year - 186) % 30 + 1
        end as persian_day
    from persian_days
),

final as (
    select
        iso_weeks.date_day,
        iso_weeks.month_start,
        iso_weeks.quarter_start,
        iso_weeks.year_start,
        iso_weeks.week_start,
        iso_weeks.year_number,
        iso_weeks.quarter_number,
        iso_weeks.month_number,
        case iso_weeks.month_number
            {%- for name in month_names %}
            when {{ loop.index }} then '{{ name }}'
            {%- endfor %}
        end as month_name,
        cast({{ dbt.datediff('iso_weeks.week_start', 'iso_weeks.date_day', 'day') }} + 1 as integer) as iso_day_of_week,
        cast(extract(year from iso_weeks.week_thursday) as integer) as iso_year,
        cast(
            floor(
                cast(
                    {{ dbt.datediff(dbt.date_trunc('year', 'iso_weeks.week_thursday'), 'iso_weeks.week_thursday', 'day') }}
                    as {{ crm_kpi.type_double() }}
                ) / 7
            ) + 1 as integer
        ) as iso_week,
        {%- if fiscal_start == 1 %}
        iso_weeks.year_number as fiscal_year,
        iso_weeks.quarter_number as fiscal_quarter,
        iso_weeks.year_start as fiscal_year_start,
        {%- else %}
        case
            when iso_weeks.month_number >= {{ fiscal_start }} then iso_weeks.year_number + 1
            else iso_weeks.year_number
        end as fiscal_year,
        cast(floor(cast((iso_weeks.month_number - {{ fiscal_start }} + 12) % 12 as {{ crm_kpi.type_double() }}) / 3) as integer) + 1 as fiscal_quarter,
        case
            when iso_weeks.month_number >= {{ fiscal_start }}
                then cast({{ dbt.dateadd('month', fiscal_start - 1, 'iso_weeks.year_start') }} as date)
            else cast({{ dbt.dateadd('month', fiscal_start - 13, 'iso_weeks.year_start') }} as date)
        end as fiscal_year_start,
        {%- endif %}
        cast(persian.persian_year as integer) as persian_year,
        cast(persian.persian_month as integer) as persian_month,
        cast(persian.persian_day as integer) as persian_day,
        case persian.persian_month
            {%- for name in persian_month_names %}
            when {{ loop.index }} then '{{ name }}'
            {%- endfor %}
        end as persian_month_name,
        case persian.persian_month
            {%- for name in persian_month_names_fa %}
            when {{ loop.index }} then '{{ name }}'
            {%- endfor %}
        end as persian_month_name_fa,
        cast(persian.persian_year * 100 + persian.persian_month as integer) as persian_year_month,
        iso_weeks.is_after_as_of
    from iso_weeks
    left join persian
        on iso_weeks.date_day = persian.date_day
)

select * from final
