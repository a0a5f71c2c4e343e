with

dates as (
    select * from {{ ref('int_dates_spined') }}
),

final as (
    select
        date_day,
        {{ crm_kpi.month_of('date_day') }} as month_start,
        cast({{ dbt.date_trunc('quarter', 'date_day') }} as date) as quarter_start,
        cast({{ dbt.date_trunc('year', 'date_day') }} as date) as year_start,
        cast({{ dbt.date_trunc('week', 'date_day') }} as date) as week_start,
        cast(extract(year from date_day) as integer) as year_number,
        cast(extract(quarter from date_day) as integer) as quarter_number,
        cast(extract(month from date_day) as integer) as month_number
    from dates
)

select * from final
