-- Logo retention by subscription cohort (rows) and months since start (columns 0-12): the classic
-- cohort triangle. Cells after the as-of month are empty.
{%- set max_months = 12 %}
select
    cohort_month,
    max(cohort_size) as cohort_size,
    {%- for month_number in range(max_months + 1) %}
    max(case when months_since_start = {{ month_number }} then logo_retention end) as month_{{ month_number }},
    {%- endfor %}
    count(*) as months_measured
from {{ ref('kpi_churn_by_cohort') }}
group by cohort_month
order by cohort_month
