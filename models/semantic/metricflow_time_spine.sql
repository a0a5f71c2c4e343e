{#- The semantic layer's time spine (dbt's time_spine config): one row per day of the date table. -#}
with

dates as (
    select * from {{ ref('dim_dates') }}
),

final as (
    select date_day
    from dates
)

select * from final
