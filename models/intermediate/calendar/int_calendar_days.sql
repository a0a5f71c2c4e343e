{#-
    The days of the BI date table: whole calendar years, from 1 January of the first data date's year to
    31 December of the year of the last date any mart holds (the as-of date, or an open deal's expected close
    date after it), so that every period, its end and every future close date has its day.
-#}
with

as_of_dates as (
    select * from {{ ref('int_as_of_dates') }}
),

opportunities as (
    select close_date from {{ ref('stg_crm__opportunities') }}
),

last_dates as (
    select
        as_of_dates.first_data_date,
        as_of_dates.as_of_date,
        greatest(
            as_of_dates.as_of_date,
            coalesce((select max(opportunities.close_date) from opportunities), as_of_dates.as_of_date)
        ) as last_date
    from as_of_dates
),

bounds as (
    select
        cast({{ dbt.date_trunc('year', 'first_data_date') }} as date) as first_day,
        cast({{ dbt.dateadd('year', 1, dbt.date_trunc('year', 'last_date')) }} as date) as next_year_start,
        as_of_date
    from last_dates
),

day_numbers as (
    {{ dbt.generate_series(crm_kpi.plausible_span('day')) }}
),

final as (
    select
        cast({{ dbt.dateadd('day', 'day_numbers.generated_number - 1', 'bounds.first_day') }} as date) as date_day,
        {{ dbt.dateadd('day', 'day_numbers.generated_number - 1', 'bounds.first_day') }} > bounds.as_of_date as is_after_as_of
    from day_numbers
    cross join bounds
    where {{ dbt.dateadd('day', 'day_numbers.generated_number - 1', 'bounds.first_day') }} < bounds.next_year_start
)

select * from final
