-- The MRR bridge of the last full month (the month before the as-of month), company-wide and per
-- channel, region and product: opening MRR + new + expansion + reactivation - contraction - churn =
-- closing MRR, with the month's logo and revenue churn.
with

as_of_dates as (
    select * from {{ ref('int_as_of_dates') }}
)

select
    movements.breakdown,
    movements.segment,
    movements.starting_mrr,
    movements.new_mrr,
    movements.expansion_mrr,
    movements.reactivated_mrr,
    movements.contraction_mrr,
    movements.churned_mrr,
    movements.ending_mrr,
    movements.customers_at_start,
    movements.churned_customers,
    movements.logo_churn_rate,
    movements.gross_revenue_churn_rate,
    movements.net_revenue_churn_rate
from {{ ref('kpi_mrr_movements') }} as movements
cross join as_of_dates
where
    movements.period_type = 'month'
    and movements.period_start = cast({{ dbt.dateadd('month', -1, 'as_of_dates.as_of_month') }} as date)
order by
    case movements.breakdown when 'total' then 0 when 'channel' then 1 when 'region' then 2 else 3 end,
    movements.ending_mrr desc
