with

snapshots as (
    select * from {{ ref('int_opportunities_snapshotted') }}
),

states as (
    select * from {{ ref('int_opportunity_states') }}
),

attributed_leads as (
    select * from {{ ref('int_leads_attributed') }}
),

campaigns as (
    select * from {{ ref('dim_campaigns') }}
    where is_campaign
),

all_periods as (
    select * from {{ ref('int_periods_spined') }}
),

periods as (
    select * from all_periods
    where period_type in ('month', 'quarter')
),

open_sourced as (
    select
        snapshots.period_type,
        snapshots.period_start,
        attributed_leads.attributed_campaign_id as campaign_id,
        count(*) as open_opportunities,
        sum(snapshots.amount) as open_value,
        sum(snapshots.weighted_amount) as weighted_open_value
    from snapshots
    inner join attributed_leads
        on snapshots.source_lead_id = attributed_leads.lead_id
    where attributed_leads.attributed_campaign_id is not null
    group by
        snapshots.period_type,
        snapshots.period_start,
        attributed_leads.attributed_campaign_id
),

created_sourced as (
    select
        periods.period_type,
        periods.period_start,
        attributed_leads.attributed_campaign_id as campaign_id,
        count(*) as created_opportunities,
        sum(states.amount) as created_value
    from states
    inner join periods
        on
            states.valid_from_on >= periods.period_start
            and states.valid_from_on <= periods.period_end
    inner join attributed_leads
        on states.source_lead_id = attributed_leads.lead_id
    where
        states.state_number = 1
        and attributed_leads.attributed_campaign_id is not null
    group by
        periods.period_type,
        periods.period_start,
        attributed_leads.attributed_campaign_id
),

{# No deal at all: an empty mart. No stage history: deal counts from the deals' dates, values null. -#}
source_presence as (
    {{ crm_kpi.stage_history_presence('states') }}
),

final as (
    select
        periods.period_type,
        periods.period_start,
        periods.period_end,
        campaigns.campaign_id,
        campaigns.campaign_name,
        campaigns.channel,
        'first_touch' as attribution_rule,
        cast(coalesce(created_sourced.created_opportunities, 0) as {{ dbt.type_bigint() }}) as created_opportunities,
        {{ crm_kpi.known_with_stage_history(crm_kpi.money('coalesce(created_sourced.created_value, 0)')) }} as created_value,
        cast(coalesce(open_sourced.open_opportunities, 0) as {{ dbt.type_bigint() }}) as open_opportunities,
        {{ crm_kpi.known_with_stage_history(crm_kpi.money('coalesce(open_sourced.open_value, 0)')) }} as open_value,
        {{ crm_kpi.known_with_stage_history(crm_kpi.money('coalesce(open_sourced.weighted_open_value, 0)')) }} as weighted_open_value
    from periods
    cross join campaigns
    left join created_sourced
        on
            periods.period_type = created_sourced.period_type
            and periods.period_start = created_sourced.period_start
            and campaigns.campaign_id = created_sourced.campaign_id
    left join open_sourced
        on
            periods.period_type = open_sourced.period_type
            and periods.period_start = open_sourced.period_start
            and campaigns.campaign_id = open_sourced.campaign_id
    cross join source_presence
    where source_presence.state_rows > 0
)

select * from final
