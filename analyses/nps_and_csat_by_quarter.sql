-- NPS and CSAT per quarter, company-wide and per region (one survey type per column, never mixed),
-- with the respondents behind each score.
select
    nps.period_start as quarter_start,
    nps.breakdown,
    nps.segment,
    nps.respondents as nps_respondents,
    nps.nps,
    csat.respondents as csat_respondents,
    csat.csat
from {{ ref('kpi_customer_satisfaction') }} as nps
left join {{ ref('kpi_customer_satisfaction') }} as csat
    on
        nps.period_type = csat.period_type
        and nps.period_start = csat.period_start
        and nps.breakdown = csat.breakdown
        and nps.segment = csat.segment
        and csat.survey_type = 'csat'
where
    nps.survey_type = 'nps'
    and nps.period_type = 'quarter'
    and nps.breakdown in ('total', 'region')
order by quarter_start asc, nps.breakdown desc, nps.segment asc
