{#- The semantic layer's time spine (dbt's time_spine config): one row per day of the date table up to
    the as-of date (the days after it hold no data: a growth metric would read them as a fall to 0). -#}
with

dates as (
    select * from {{ ref('dim_dates') }}
),

final as (
    select date_day
    from dates
    where not is_after_as_of
)

select * from final
