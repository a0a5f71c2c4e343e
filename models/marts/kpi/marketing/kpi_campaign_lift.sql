{#-
    M4 incremental sales (lift) per campaign: bookings of the campaign's channel and region in the
    campaign window minus the bookings of the same-length window just before it (the baseline).
    See the kpi_campaign_lift docs block.
-#}
with

{# The campaigns of the export (dim_campaigns without its unknown member, the unattributed row). -#}
campaigns as (
    select * from {{ ref('dim_campaigns') }}
    where is_campaign
),

opportunities as (
    select * from {{ ref('int_opportunities_classified') }}
),

leads as (
    select * from {{ ref('int_leads_lifecycle') }}
),

as_of_dates as (
    select * from {{ ref('int_as_of_dates') }}
),

campaign_windows as (
    select
        campaigns.campaign_id,
        campaigns.campaign_name,
        campaigns.channel,
        campaigns.region,
        campaigns.started_on as window_start,
        case
            when campaigns.ended_on is null or campaigns.ended_on > as_of_dates.as_of_date then as_of_dates.as_of_date
            else campaigns.ended_on
        end as window_end,
        as_of_dates.first_data_date
    from campaigns
    cross join as_of_dates
    where campaigns.started_on <= as_of_dates.as_of_date
),

sized_windows as (
    select
        campaign_windows.*,
        {{ dbt.datediff('campaign_windows.window_start', 'campaign_windows.window_end', 'day') }} + 1 as window_days
    from campaign_windows
),

windows as (
    select
        sized_windows.*,
        cast({{ dbt.dateadd('day', '-1 * sized_windows.window_days', 'sized_windows.window_start') }} as date) as baseline_start,
        cast({{ dbt.dateadd('day', -1, 'sized_windows.window_start') }} as date) as baseline_end
    from sized_windows
),

-- Won deals with the channel and region of their source lead (deals without one belong to no channel).
channel_deals as (
    select
        opportunities.opportunity_id,
        opportunities.close_date,
        opportunities.amount,
        leads.channel,
        leads.region
    from opportunities
    inner join leads
        on opportunities.source_lead_id = leads.lead_id
    where opportunities.is_won_by_as_of
),

window_bookings as (
    select
        windows.campaign_id,
        sum(case when channel_deals.close_date >= windows.window_start then channel_deals.amount else 0 end) as window_bookings,
        sum(case when channel_deals.close_date >= windows.window_start then 1 else 0 end) as window_won_deals,
        sum(case when channel_deals.close_date < windows.window_start then channel_deals.amount else 0 end) as baseline_bookings,
        sum(case when channel_deals.close_date < windows.window_start then 1 else 0 end) as baseline_won_deals
    from windows
    inner join channel_deals
        on
            windows.channel = channel_deals.channel
            and (windows.region is null or windows.region = channel_deals.region)
            and windows.baseline_start <= channel_deals.close_date
            and windows.window_end >= channel_deals.close_date
    group by windows.campaign_id
),

-- Other campaigns of the channel, in an overlapping region, running during this campaign's baseline or window.
campaign_overlaps as (
    select
        windows.campaign_id,
        count(*) as overlapping_campaigns
    from windows
    inner join windows as other_windows
        on
            windows.channel = other_windows.channel
            and windows.campaign_id <> other_windows.campaign_id
            and (windows.region is null or other_windows.region is null or windows.region = other_windows.region)
            and windows.window_end >= other_windows.window_start
            and windows.baseline_start <= other_windows.window_end
    group by windows.campaign_id
),

final as (
    select
        windows.campaign_id,
        windows.campaign_name,
        windows.channel,
        windows.region,
        windows.window_start,
        windows.window_end,
        cast(windows.window_days as {{ dbt.type_bigint() }}) as window_days,
        windows.baseline_start,
        windows.baseline_end,
        windows.baseline_start >= windows.first_data_date as is_baseline_complete,
        {{ crm_kpi.money('coalesce(window_bookings.window_bookings, 0)') }} as window_bookings,
        cast(coalesce(window_bookings.window_won_deals, 0) as {{ dbt.type_bigint() }}) as window_won_deals,
        {{ crm_kpi.money('coalesce(window_bookings.baseline_bookings, 0)') }} as baseline_bookings,
        cast(coalesce(window_bookings.baseline_won_deals, 0) as {{ dbt.type_bigint() }}) as baseline_won_deals,
        {{ crm_kpi.money(
            crm_kpi.money('coalesce(window_bookings.window_bookings, 0)') ~ ' - ' ~ crm_kpi.money('coalesce(window_bookings.baseline_bookings, 0)')
        ) }} as incremental_bookings,
        {{ crm_kpi.safe_divide(
            crm_kpi.money('coalesce(window_bookings.window_bookings, 0)') ~ ' - ' ~ crm_kpi.money('coalesce(window_bookings.baseline_bookings, 0)'),
            crm_kpi.money('coalesce(window_bookings.baseline_bookings, 0)')
        ) }} as lift_rate,
        cast(coalesce(campaign_overlaps.overlapping_campaigns, 0) as {{ dbt.type_bigint() }}) as overlapping_campaigns
    from windows
    left join window_bookings
        on windows.campaign_id = window_bookings.campaign_id
    left join campaign_overlaps
        on windows.campaign_id = campaign_overlaps.campaign_id
)

select * from final
