{#-
    F1 period-based: how many leads entered each lifecycle stage in each week, month and quarter (by
    channel), beside the cohort funnel of kpi_funnel_conversion; and F11, the time from lead creation to
    the account's first purchase for the customers acquired in the period.
-#}
with

leads as (
    select * from {{ ref('int_leads_lifecycle') }}
),

acquired_accounts as (
    select * from {{ ref('int_accounts_acquired') }}
),

periods as (
    select * from {{ ref('int_periods_spined') }}
),

channels as (
    select distinct channel from leads
),

period_channels as (
    select
        periods.period_type,
        periods.period_start,
        periods.period_end,
        channels.channel
    from periods
    cross join channels
),

-- One row per stage entry: the lead's channel, the stage and the day it was entered (UTC).
stage_entries as (
    select
        channel,
        'lead' as entered_stage,
        cast(created_at as date) as entered_on
    from leads
    union all
    select
        channel,
        'mql' as entered_stage,
        cast(mql_at as date) as entered_on
    from leads
    where mql_at is not null
    union all
    select
        channel,
        'sql' as entered_stage,
        cast(sql_at as date) as entered_on
    from leads
    where sql_at is not null
    union all
    select
        channel,
        'opportunity' as entered_stage,
        cast(opportunity_at as date) as entered_on
    from leads
    where opportunity_at is not null
    union all
    select
        channel,
        'won' as entered_stage,
        won_on as entered_on
    from leads
    where won_on is not null
),

-- Accounts acquired (first won deal), with the channel and creation of the lead behind that deal.
acquisitions as (
    select
        leads.channel,
        acquired_accounts.first_won_on,
        {{ dbt.datediff('cast(leads.created_at as date)', 'acquired_accounts.first_won_on', 'day') }} as days_to_first_purchase
    from acquired_accounts
    inner join leads
        on acquired_accounts.source_lead_id = leads.lead_id
),

entry_counts as (
    select
        period_channels.period_type,
        period_channels.period_start,
        period_channels.channel,
        sum(case when stage_entries.entered_stage = 'lead' then 1 else 0 end) as leads_created,
        sum(case when stage_entries.entered_stage = 'mql' then 1 else 0 end) as entered_mql,
        sum(case when stage_entries.entered_stage = 'sql' then 1 else 0 end) as entered_sql,
        sum(case when stage_entries.entered_stage = 'opportunity' then 1 else 0 end) as entered_opportunity,
        sum(case when stage_entries.entered_stage = 'won' then 1 else 0 end) as entered_won
    from period_channels
    inner join stage_entries
        on
            period_channels.channel = stage_entries.channel
            and period_channels.period_start <= stage_entries.entered_on
            and period_channels.period_end >= stage_entries.entered_on
    group by
        period_channels.period_type,
        period_channels.period_start,
        period_channels.channel
),

purchase_times as (
    select
        period_channels.period_type,
        period_channels.period_start,
        period_channels.channel,
        count(*) as new_customers,
        {{ crm_kpi.median('acquisitions.days_to_first_purchase') }} as median_days_to_first_purchase,
        avg(cast(acquisitions.days_to_first_purchase as {{ crm_kpi.type_double() }})) as mean_days_to_first_purchase
    from period_channels
    inner join acquisitions
        on
            period_channels.channel = acquisitions.channel
            and period_channels.period_start <= acquisitions.first_won_on
            and period_channels.period_end >= acquisitions.first_won_on
    group by
        period_channels.period_type,
        period_channels.period_start,
        period_channels.channel
),

final as (
    select
        period_channels.period_type,
        period_channels.period_start,
        period_channels.period_end,
        period_channels.channel,
        cast(coalesce(entry_counts.leads_created, 0) as {{ dbt.type_bigint() }}) as leads_created,
        cast(coalesce(entry_counts.entered_mql, 0) as {{ dbt.type_bigint() }}) as entered_mql,
        cast(coalesce(entry_counts.entered_sql, 0) as {{ dbt.type_bigint() }}) as entered_sql,
        cast(coalesce(entry_counts.entered_opportunity, 0) as {{ dbt.type_bigint() }}) as entered_opportunity,
        cast(coalesce(entry_counts.entered_won, 0) as {{ dbt.type_bigint() }}) as entered_won,
        cast(coalesce(purchase_times.new_customers, 0) as {{ dbt.type_bigint() }}) as new_customers,
        cast(purchase_times.median_days_to_first_purchase as {{ crm_kpi.type_double() }}) as median_days_to_first_purchase,
        cast(purchase_times.mean_days_to_first_purchase as {{ crm_kpi.type_double() }}) as mean_days_to_first_purchase
    from period_channels
    left join entry_counts
        on
            period_channels.period_type = entry_counts.period_type
            and period_channels.period_start = entry_counts.period_start
            and period_channels.channel = entry_counts.channel
    left join purchase_times
        on
            period_channels.period_type = purchase_times.period_type
            and period_channels.period_start = purchase_times.period_start
            and period_channels.channel = purchase_times.channel
)

select * from final
