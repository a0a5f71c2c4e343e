{#-
    One row per month from the first data month to the as-of month, with the month's snapshot date:
    its last day, or the as-of date for the month that holds it (end-of-month snapshots).
-#}
with

as_of_dates as (
    select * from {{ ref('int_as_of_dates') }}
),

month_numbers as (
    {{ dbt.generate_series(crm_kpi.plausible_span('month')) }}
),

months as (
    select
        cast({{ dbt.dateadd('month', 'month_numbers.generated_number - 1', 'as_of_dates.first_data_month') }} as date) as month_start,
        as_of_dates.as_of_date,
        as_of_dates.as_of_month
    from month_numbers
    cross join as_of_dates
    where {{ dbt.dateadd('month', 'month_numbers.generated_number - 1', 'as_of_dates.first_data_month') }} <= as_of_dates.as_of_month
),

final as (
    select
        month_start,
        cast({{ dbt.last_day('month_start', 'month') }} as date) as month_end,
        case
            when month_start = as_of_month then as_of_date
            else cast({{ dbt.last_day('month_start', 'month') }} as date)
        end as snapshot_date,
        month_start = as_of_month as is_as_of_month
    from months
)

select * from final
