-- How fast and how well each team works its leads, quarter by quarter: median and p90 response time
-- (days from lead creation to the first outbound rep activity), leads never touched, MQL follow-up
-- rate within follow_up_days, positive response and meeting booking rates. Read the percentiles at
-- this grain: they do not add up across teams or quarters.
select
    period_start as quarter_start,
    group_id as team_id,
    leads,
    leads_never_touched,
    median_response_days,
    p90_response_days,
    median_response_days * 24 as median_response_hours,
    mqls,
    follow_up_rate,
    positive_response_rate,
    meeting_booking_rate
from {{ ref('kpi_lead_response') }}
where
    period_type = 'quarter'
    and grouping_level in ('team', 'all')
order by
    quarter_start desc,
    team_id asc
