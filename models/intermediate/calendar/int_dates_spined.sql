{#-
    One row per day from the first data date to the as-of date; the series spans the plausible window
    (plausible_span), so any as-of date inside it has its days.
-#}
with

as_of_dates as (
    select * from {{ ref('int_as_of_dates') }}
),

day_numbers as (
    {{ dbt.generate_series(crm_kpi.plausible_span('day')) }}
),

final as (
    select cast({{ dbt.dateadd('day', 'day_numbers.generated_number - 1', 'as_of_dates.first_data_date') }} as date) as date_day
    from day_numbers
    cross join as_of_dates
    where {{ dbt.dateadd('day', 'day_numbers.generated_number - 1', 'as_of_dates.first_data_date') }} <= as_of_dates.as_of_date
)

select * from final
