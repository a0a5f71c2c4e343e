{#-
    One row per deal won by the as-of date with a touch: its activities (on the deal, or on its
    source lead) on or before its close date, counted by type and in all.
-#}
{%- set touch_types = [('calls', 'call'), ('emails', 'email'), ('meetings', 'meeting'), ('demos', 'demo'), ('proposals', 'proposal')] -%}

with

opportunities as (
    select * from {{ ref('int_opportunities_credited') }}
),

activities as (
    select * from {{ ref('stg_crm__activities') }}
),

won_deal_activities as (
    select
        opportunities.opportunity_id,
        activities.activity_id,
        activities.activity_type
    from opportunities
    inner join activities
        on opportunities.opportunity_id = activities.opportunity_id
    where
        opportunities.is_won_by_as_of
        and cast(activities.occurred_at as date) <= opportunities.close_date
    union
    select
        opportunities.opportunity_id,
        activities.activity_id,
        activities.activity_type
    from opportunities
    inner join activities
        on opportunities.source_lead_id = activities.lead_id
    where
        opportunities.is_won_by_as_of
        and cast(activities.occurred_at as date) <= opportunities.close_date
),

final as (
    select
        opportunity_id,
        {%- for column, activity_type in touch_types %}
        sum(case when activity_type = '{{ activity_type }}' then 1 else 0 end) as {{ column }},
        {%- endfor %}
        count(*) as touches
    from won_deal_activities
    group by opportunity_id
)

select * from final
