{#-
    One row per reporting period of each type (ISO week starting Monday, month, quarter) from the first
    data date's period to the as-of date's period, with its last day and its snapshot date: the last
    day, or the as-of date for the period that holds it (the "as of period end" day of snapshots such
    as the open pipeline). The previous period and the same period a year earlier are there for growth.
-#}
with

days as (
    select * from {{ ref('int_dates_spined') }}
),

as_of_dates as (
    select * from {{ ref('int_as_of_dates') }}
),

period_days as (
    {%- for period_type in ['week', 'month', 'quarter'] %}
    select distinct
        '{{ period_type }}' as period_type,
        cast({{ dbt.date_trunc(period_type, 'days.date_day') }} as date) as period_start
    from days
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
),

bounded as (
    select
        period_days.period_type,
        period_days.period_start,
        case period_days.period_type
            when 'week' then cast({{ dbt.dateadd('day', 6, 'period_days.period_start') }} as date)
            when 'month' then cast({{ dbt.last_day('period_days.period_start', 'month') }} as date)
            else cast({{ dbt.last_day('period_days.period_start', 'quarter') }} as date)
        end as period_end,
        case period_days.period_type
            when 'week' then cast({{ dbt.dateadd('day', -7, 'period_days.period_start') }} as date)
            when 'month' then cast({{ dbt.dateadd('month', -1, 'period_days.period_start') }} as date)
            else cast({{ dbt.dateadd('month', -3, 'period_days.period_start') }} as date)
        end as previous_period_start,
        case period_days.period_type
            when 'week' then cast({{ dbt.dateadd('day', -364, 'period_days.period_start') }} as date)
            else cast({{ dbt.dateadd('month', -12, 'period_days.period_start') }} as date)
        end as year_ago_period_start
    from period_days
),

final as (
    select
        bounded.period_type,
        bounded.period_start,
        bounded.period_end,
        case
            when bounded.period_end > as_of_dates.as_of_date then as_of_dates.as_of_date
            else bounded.period_end
        end as snapshot_date,
        bounded.period_end <= as_of_dates.as_of_date as is_complete,
        bounded.previous_period_start,
        bounded.year_ago_period_start
    from bounded
    cross join as_of_dates
)

select * from final
