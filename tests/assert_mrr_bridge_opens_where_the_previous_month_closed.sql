{#-
    C4 chain: in kpi_mrr_movements, every period (month or quarter) opens with the customers and MRR at
    which the month before it closed, and closes with those of the month that holds its closing snapshot
    (its last month, or the as-of month), per breakdown and segment. The first month opens at 0.
    Money is rounded per row: a cent of tolerance.
-#}
with

movements as (
    select * from {{ ref('kpi_mrr_movements') }}
),

as_of_dates as (
    select * from {{ ref('int_as_of_dates') }}
),

monthly as (
    select
        period_start,
        breakdown,
        segment,
        customers_at_end,
        ending_mrr
    from movements
    where period_type = 'month'
),

checked as (
    select
        movements.period_type,
        movements.period_start,
        movements.breakdown,
        movements.segment,
        movements.customers_at_start,
        coalesce(opening.customers_at_end, 0) as previous_month_customers,
        movements.starting_mrr,
        coalesce(opening.ending_mrr, 0) as previous_month_mrr,
        movements.customers_at_end,
        closing.customers_at_end as closing_month_customers,
        movements.ending_mrr,
        closing.ending_mrr as closing_month_mrr
    from movements
    cross join as_of_dates
    left join monthly as opening
        on
            movements.breakdown = opening.breakdown
            and movements.segment = opening.segment
            and cast({{ dbt.dateadd('month', -1, 'movements.period_start') }} as date) = opening.period_start
    left join monthly as closing
        on
            movements.breakdown = closing.breakdown
            and movements.segment = closing.segment
            and closing.period_start = case
                when movements.period_end > as_of_dates.as_of_date then as_of_dates.as_of_month
                else {{ crm_kpi.month_of('movements.period_end') }}
            end
)

select *
from checked
where
    customers_at_start <> previous_month_customers
    or abs(starting_mrr - previous_month_mrr) > 0.01
    or closing_month_mrr is null
    or customers_at_end <> closing_month_customers
    or abs(ending_mrr - closing_month_mrr) > 0.01
