-- The performance floor: the five headline KPI tables computed by one hand-written DuckDB script
-- straight from the raw files, with the same definitions and numbers as the dbt marts of the same
-- names (models/marts/kpi), but none of the warehouse around them (no quarantine report, no tests,
-- no docs, no facts or dimensions).
--
-- Placeholders, filled by crm_kpi.floor.floor_sql:
--   {reader:<table>}       the raw file read as text: read_csv(..., header = true, all_varchar = true)
--                          or read_parquet(...); an empty relation when an optional file is absent
--   {as_of}                the as-of date, a DATE literal
--   {reporting_currency}   the reporting currency, a string literal
--
-- Staging rules that change the numbers, as in models/staging (macro typed_raw_rows):
--   * every converted amount (spend, deal amount, quota, MRR) is rounded to the cent once, on its row;
--   * text is trimmed, '' is null; a row whose required value is missing, whose value does not parse
--     (try_cast), whose enum is unknown, whose stage is not in `stages`, that fails a range check or
--     whose money has no exchange rate is excluded (the warehouse quarantines it);
--   * money: rate on the event date, else the latest earlier rate (an ASOF join);
--   * timestamps: with or without offset (none = UTC), as UTC timestamps;
--   * exclusions first, then re-exports: the latest updated_at wins (any duplicate of the key for a
--     table without updated_at), then soft deletes are dropped.

set TimeZone = 'UTC';

create schema if not exists floor;

create or replace temp macro floor_text(value) as nullif(trim(cast(value as varchar)), '');
-- timezone('UTC', try_cast(value as timestamptz)) as in staging, through epoch microseconds: the same
-- instant without ICU's time zone conversion (4x faster; only 'infinity' differs: null here).
create or replace temp macro floor_utc(value) as make_timestamp(epoch_us(try_cast(value as timestamptz)));
create or replace temp macro floor_bool(value) as
    case
        when lower(value) in ('true', 't', '1', 'yes', 'y') then true
        when lower(value) in ('false', 'f', '0', 'no', 'n') then false
    end;
create or replace temp macro floor_month(value) as cast(date_trunc('month', value) as date);
create or replace temp macro floor_money(value) as cast(round(cast(value as decimal(28, 8)), 2) as decimal(18, 2));
create or replace temp macro floor_ratio(numerator, denominator) as
    cast(numerator as double) / nullif(cast(denominator as double), 0);


-- ------------------------------------------------------------------------------------------------
-- Staging: only the tables and rows the five KPIs need; every column of such a row is still checked
-- ------------------------------------------------------------------------------------------------

-- Rate validity intervals start at rate_date; the reporting currency converts at 1.
create or replace temp table floor_rates as
with raw_texts as (
    select
        upper(floor_text(currency)) as currency,
        try_cast(floor_text(rate_date) as date) as rate_date,
        try_cast(floor_text(rate_to_reporting) as double) as rate_to_reporting
    from {reader:exchange_rates}
)

select currency, rate_date, rate_to_reporting
from raw_texts
where
    currency is not null
    and rate_date is not null
    and rate_to_reporting is not null
    and currency <> {reporting_currency}
qualify row_number() over (partition by currency, rate_date) = 1
union all
select {reporting_currency}, date '1900-01-01', 1.0;

create or replace temp table floor_stages as
with typed as (
    select
        lower(floor_text(stage)) as stage,
        floor_text(sort_order) as sort_order,
        try_cast(floor_text(probability) as double) as probability,
        floor_bool(floor_text(is_closed)) as is_closed,
        floor_bool(floor_text(is_won)) as is_won
    from {reader:stages}
)

select stage, is_closed, is_won
from typed
where
    stage is not null
    and try_cast(sort_order as bigint) is not null
    and probability is not null
    and not (probability < 0 or probability > 1)
    and is_closed is not null
    and is_won is not null
qualify row_number() over (partition by stage) = 1;

create or replace temp table floor_users as
with typed as (
    select
        floor_text(user_id) as user_id,
        floor_text(full_name) as full_name,
        floor_text(email) as email,
        lower(floor_text(role)) as role,
        floor_text(region) as region,
        floor_text(country) as country,
        try_cast(floor_text(hired_on) as date) as hired_on,
        floor_text(left_on) as left_on_text,
        try_cast(floor_text(left_on) as date) as left_on,
        floor_utc(floor_text(updated_at)) as updated_at,
        floor_text(is_deleted) as is_deleted_text,
        floor_bool(floor_text(is_deleted)) as is_deleted
    from {reader:users}
)

select user_id, full_name, role, hired_on, left_on
from typed
where
    user_id is not null
    and full_name is not null
    and email is not null
    and role in ('sdr', 'bdr', 'ae', 'am', 'manager', 'marketing')
    and region is not null
    and country is not null
    and hired_on is not null
    and (left_on_text is null or left_on is not null)
    and updated_at is not null
    and (is_deleted_text is null or is_deleted is not null)
qualify row_number() over (partition by user_id order by updated_at desc) = 1 and not coalesce(is_deleted, false);

create or replace temp table floor_quotas as
with typed as (
    select
        floor_text(quota_id) as quota_id,
        floor_text(user_id) as user_id,
        floor_text(team_id) as team_id,
        try_cast(floor_text(month_start) as date) as month_start,
        try_cast(floor_text(amount) as double) as amount,
        upper(floor_text(currency)) as currency
    from {reader:quotas}
),

valid as (
    select *
    from typed
    where
        quota_id is not null
        and month_start is not null
        and amount is not null
        and currency is not null
        and (user_id is not null or team_id is not null)
)

select valid.quota_id, valid.user_id, valid.month_start, floor_money(valid.amount * rates.rate_to_reporting) as amount
from valid
asof left join floor_rates as rates
    on valid.currency = rates.currency and valid.month_start >= rates.rate_date
where rates.rate_to_reporting is not null
qualify row_number() over (partition by valid.quota_id) = 1;

create or replace temp table floor_campaigns as
with typed as (
    select
        floor_text(campaign_id) as campaign_id,
        floor_text(campaign_name) as campaign_name,
        lower(floor_text(channel)) as channel,
        try_cast(floor_text(started_on) as date) as started_on,
        floor_text(ended_on) as ended_on_text,
        try_cast(floor_text(ended_on) as date) as ended_on,
        floor_text(budget) as budget_text,
        try_cast(floor_text(budget) as double) as budget,
        upper(floor_text(currency)) as currency,
        floor_utc(floor_text(updated_at)) as updated_at,
        floor_text(is_deleted) as is_deleted_text,
        floor_bool(floor_text(is_deleted)) as is_deleted
    from {reader:campaigns}
),

valid as (
    select *
    from typed
    where
        campaign_id is not null
        and campaign_name is not null
        and channel in (
            'paid_search', 'paid_social', 'display', 'email', 'events', 'content',
            'webinar', 'referral', 'partner', 'outbound', 'organic'
        )
        and started_on is not null
        and (ended_on_text is null or ended_on is not null)
        and (budget_text is null or budget is not null)
        and currency is not null
        and updated_at is not null
        and (is_deleted_text is null or is_deleted is not null)
)

-- The budget is converted at the rate of the updated_at date: no rate, no campaign.
select valid.campaign_id, valid.campaign_name, valid.channel, valid.started_on, valid.ended_on
from valid
asof left join floor_rates as rates
    on valid.currency = rates.currency and cast(valid.updated_at as date) >= rates.rate_date
where valid.budget is null or rates.rate_to_reporting is not null
qualify
    row_number() over (partition by valid.campaign_id order by valid.updated_at desc) = 1
    and not coalesce(valid.is_deleted, false);

create or replace temp table floor_campaign_spend as
with typed as (
    select
        floor_text(campaign_id) as campaign_id,
        try_cast(floor_text(spend_date) as date) as spend_date,
        try_cast(floor_text(amount) as double) as amount,
        upper(floor_text(currency)) as currency
    from {reader:campaign_spend}
),

valid as (
    select *
    from typed
    where campaign_id is not null and spend_date is not null and amount is not null and currency is not null
)

select valid.campaign_id, valid.spend_date, floor_money(valid.amount * rates.rate_to_reporting) as amount
from valid
asof left join floor_rates as rates
    on valid.currency = rates.currency and valid.spend_date >= rates.rate_date
where rates.rate_to_reporting is not null and not valid.amount < 0
qualify row_number() over (partition by valid.campaign_id, valid.spend_date) = 1;

create or replace temp table floor_leads as
with typed as (
    select
        floor_text(lead_id) as lead_id,
        floor_utc(floor_text(created_at)) as created_at,
        floor_text(source_campaign_id) as source_campaign_id,
        lower(floor_text(channel)) as channel,
        floor_text(region) as region,
        floor_text(country) as country,
        lower(floor_text(status)) as status,
        floor_text(converted_at) as converted_at_text,
        floor_utc(floor_text(converted_at)) as converted_at,
        floor_utc(floor_text(updated_at)) as updated_at,
        floor_text(is_deleted) as is_deleted_text,
        floor_bool(floor_text(is_deleted)) as is_deleted
    from {reader:leads}
)

select lead_id, created_at, source_campaign_id, channel
from typed
where
    lead_id is not null
    and created_at is not null
    and channel in (
        'paid_search', 'paid_social', 'display', 'email', 'events', 'content',
        'webinar', 'referral', 'partner', 'outbound', 'organic'
    )
    and region is not null
    and country is not null
    and status in ('new', 'working', 'mql', 'sql', 'converted', 'disqualified', 'recycled')
    and (converted_at_text is null or converted_at is not null)
    and updated_at is not null
    and (is_deleted_text is null or is_deleted is not null)
qualify row_number() over (partition by lead_id order by updated_at desc) = 1 and not coalesce(is_deleted, false);

-- First time each lead entered mql / sql / converted by the as-of date (other valid statuses cannot
-- change these minimums, so only those three are read; duplicates cannot change a minimum either).
create or replace temp table floor_lead_status_times as
with typed as (
    select
        floor_text(lead_id) as lead_id,
        lower(floor_text(status)) as status,
        floor_utc(floor_text(changed_at)) as changed_at
    from {reader:lead_status_history}
)

select
    lead_id,
    min(changed_at) filter (where status = 'mql') as first_mql_at,
    min(changed_at) filter (where status = 'sql') as first_sql_at,
    min(changed_at) filter (where status = 'converted') as first_converted_at
from typed
where
    lead_id is not null
    and status in ('mql', 'sql', 'converted')
    and changed_at is not null
    and cast(changed_at as date) <= {as_of}
group by lead_id;

-- Earliest touch (touched_at, ties by touch_id) by a staged campaign, only for the leads that need it:
-- a lead whose source campaign is a staged campaign is attributed to it whatever its touches.
create or replace temp table floor_first_touches as
with unattributed_leads as (
    select leads.lead_id
    from floor_leads as leads
    anti join floor_campaigns as campaigns on leads.source_campaign_id = campaigns.campaign_id
    where cast(leads.created_at as date) <= {as_of}
),

candidate_touches as (
    select touches.*
    from (
        select
            floor_text(lead_id) as lead_id,
            touch_id,
            campaign_id,
            touched_at,
            touch_type
        from {reader:campaign_touches}
    ) as touches
    semi join unattributed_leads on touches.lead_id = unattributed_leads.lead_id
),

typed as (
    select
        lead_id,
        floor_text(touch_id) as touch_id,
        floor_text(campaign_id) as campaign_id,
        floor_utc(floor_text(touched_at)) as touched_at,
        lower(floor_text(touch_type)) as touch_type
    from candidate_touches
)

select lead_id, arg_min(campaign_id, (touched_at, touch_id)) as campaign_id
from typed
where
    touch_id is not null
    and touched_at is not null
    and touch_type in ('impression', 'click', 'form', 'attended', 'replied')
    and campaign_id in (select floor_campaigns.campaign_id from floor_campaigns)
group by lead_id;

create or replace temp table floor_accounts as
with typed as (
    select
        floor_text(account_id) as account_id,
        floor_text(account_name) as account_name,
        floor_text(employees) as employees,
        floor_text(region) as region,
        floor_text(country) as country,
        floor_utc(floor_text(created_at)) as created_at,
        floor_utc(floor_text(updated_at)) as updated_at,
        floor_text(is_deleted) as is_deleted_text,
        floor_bool(floor_text(is_deleted)) as is_deleted
    from {reader:accounts}
)

select account_id
from typed
where
    account_id is not null
    and account_name is not null
    and (employees is null or try_cast(employees as bigint) is not null)
    and region is not null
    and country is not null
    and created_at is not null
    and updated_at is not null
    and (is_deleted_text is null or is_deleted is not null)
qualify row_number() over (partition by account_id order by updated_at desc) = 1 and not coalesce(is_deleted, false);

create or replace temp table floor_opportunities as
with typed as (
    select
        floor_text(opportunity_id) as opportunity_id,
        floor_text(account_id) as account_id,
        floor_text(owner_user_id) as owner_user_id,
        floor_text(source_lead_id) as source_lead_id,
        lower(floor_text(opportunity_type)) as opportunity_type,
        floor_utc(floor_text(created_at)) as created_at,
        try_cast(floor_text(close_date) as date) as close_date,
        lower(floor_text(stage)) as stage,
        try_cast(floor_text(amount) as double) as amount,
        upper(floor_text(currency)) as currency,
        floor_utc(floor_text(updated_at)) as updated_at,
        floor_text(is_deleted) as is_deleted_text,
        floor_bool(floor_text(is_deleted)) as is_deleted
    from {reader:opportunities}
),

valid as (
    select *
    from typed
    where
        opportunity_id is not null
        and account_id is not null
        and owner_user_id is not null
        and opportunity_type in ('new_business', 'upsell', 'cross_sell', 'renewal')
        and created_at is not null
        and close_date is not null
        and stage in (select floor_stages.stage from floor_stages)
        and amount is not null
        and not amount < 0
        and currency is not null
        and updated_at is not null
        and (is_deleted_text is null or is_deleted is not null)
)

select
    valid.opportunity_id,
    valid.account_id,
    valid.owner_user_id,
    valid.source_lead_id,
    valid.created_at,
    valid.close_date,
    valid.stage,
    floor_money(valid.amount * rates.rate_to_reporting) as amount
from valid
asof left join floor_rates as rates
    on valid.currency = rates.currency and cast(valid.created_at as date) >= rates.rate_date
where rates.rate_to_reporting is not null
qualify
    row_number() over (partition by valid.opportunity_id order by valid.updated_at desc) = 1
    and not coalesce(valid.is_deleted, false);

create or replace temp table floor_subscriptions as
with typed as (
    select
        floor_text(subscription_id) as subscription_id,
        floor_text(account_id) as account_id,
        floor_text(product_id) as product_id,
        try_cast(floor_text(period_start) as date) as period_start,
        floor_text(period_end) as period_end_text,
        try_cast(floor_text(period_end) as date) as period_end,
        try_cast(floor_text(mrr) as double) as mrr,
        upper(floor_text(currency)) as currency
    from {reader:subscriptions}
),

valid as (
    select *
    from typed
    where
        subscription_id is not null
        and account_id is not null
        and product_id is not null
        and period_start is not null
        and (period_end_text is null or period_end is not null)
        and (period_end is null or period_end > period_start)
        and mrr is not null
        and not mrr < 0
        and currency is not null
)

select valid.account_id, valid.period_start, valid.period_end, floor_money(valid.mrr * rates.rate_to_reporting) as mrr
from valid
asof left join floor_rates as rates
    on valid.currency = rates.currency and valid.period_start >= rates.rate_date
where rates.rate_to_reporting is not null
qualify row_number() over (partition by valid.subscription_id, valid.period_start) = 1;


-- ------------------------------------------------------------------------------------------------
-- Shared definitions: calendar, deals, lead lifecycle with first-touch campaign
-- ------------------------------------------------------------------------------------------------

-- Months from the first data month to the as-of month, with their end-of-month snapshot date.
create or replace temp table floor_months as
with first_data as (
    select least(
        (select min(cast(created_at as date)) from floor_leads),
        (select min(cast(created_at as date)) from floor_opportunities),
        (select min(spend_date) from floor_campaign_spend),
        (select min(period_start) from floor_subscriptions)
    ) as first_data_date
),

month_starts as (
    select cast(unnest(range(
        cast(floor_month(first_data.first_data_date) as timestamp),
        cast(floor_month({as_of}) + interval 1 month as timestamp),
        interval 1 month
    )) as date) as month_start
    from first_data
)

select
    month_start,
    case when month_start = floor_month({as_of}) then {as_of} else last_day(month_start) end as snapshot_date
from month_starts;

-- Opportunities created by the as-of date, won / lost / closed by it through the stages table.
create or replace temp table floor_deals as
select
    opportunities.opportunity_id,
    opportunities.account_id,
    opportunities.owner_user_id,
    opportunities.source_lead_id,
    opportunities.created_at,
    opportunities.close_date,
    floor_month(opportunities.close_date) as close_month,
    opportunities.amount,
    stages.is_closed and opportunities.close_date <= {as_of} as is_closed_by_as_of,
    stages.is_won and opportunities.close_date <= {as_of} as is_won_by_as_of,
    stages.is_closed and not stages.is_won and opportunities.close_date <= {as_of} as is_lost_by_as_of
from floor_opportunities as opportunities
inner join floor_stages as stages on opportunities.stage = stages.stage
where cast(opportunities.created_at as date) <= {as_of};

-- Leads created by the as-of date: when each stage was reached (a later stage implies the earlier
-- ones) and the first-touch campaign (source campaign if staged, else the earliest touch).
create or replace temp table floor_lifecycle as
with lead_opportunities as (
    select
        source_lead_id as lead_id,
        min(created_at) as opportunity_at,
        min(close_date) filter (where is_won_by_as_of) as won_on
    from floor_deals
    where source_lead_id is not null
    group by source_lead_id
),

stage_times as (
    select
        leads.lead_id,
        leads.created_at,
        floor_month(leads.created_at) as cohort_month,
        leads.channel,
        coalesce(source_campaigns.campaign_id, first_touches.campaign_id) as campaign_id,
        status_times.first_mql_at,
        least(status_times.first_sql_at, status_times.first_converted_at, lead_opportunities.opportunity_at) as sql_at,
        lead_opportunities.opportunity_at,
        lead_opportunities.won_on
    from floor_leads as leads
    left join floor_lead_status_times as status_times on leads.lead_id = status_times.lead_id
    left join lead_opportunities on leads.lead_id = lead_opportunities.lead_id
    left join floor_campaigns as source_campaigns on leads.source_campaign_id = source_campaigns.campaign_id
    left join floor_first_touches as first_touches on leads.lead_id = first_touches.lead_id
    where cast(leads.created_at as date) <= {as_of}
)

select
    lead_id,
    created_at,
    cohort_month,
    channel,
    campaign_id,
    least(first_mql_at, sql_at) as mql_at,
    sql_at,
    opportunity_at,
    won_on
from stage_times;


-- ------------------------------------------------------------------------------------------------
-- kpi_funnel_conversion: cohort month x channel
-- ------------------------------------------------------------------------------------------------

create or replace table floor.kpi_funnel_conversion as
with cohort_counts as (
    select
        cohort_month,
        channel,
        count(*) as leads,
        count(mql_at) as mqls,
        count(sql_at) as sqls,
        count(opportunity_at) as opportunities,
        count(won_on) as customers,
        quantile_cont(date_diff('second', created_at, mql_at) / 86400.0, 0.5) as median_days_to_mql,
        quantile_cont(date_diff('second', mql_at, sql_at) / 86400.0, 0.5) as median_days_mql_to_sql,
        quantile_cont(date_diff('second', sql_at, opportunity_at) / 86400.0, 0.5) as median_days_sql_to_opportunity,
        quantile_cont(date_diff('day', cast(opportunity_at as date), won_on), 0.5) as median_days_opportunity_to_won
    from floor_lifecycle
    group by cohort_month, channel
),

cohort_grid as (
    select months.month_start as cohort_month, channels.channel
    from floor_months as months
    cross join (select distinct channel from floor_lifecycle) as channels
    where months.month_start >= (select min(cohort_month) from floor_lifecycle)
),

cohorts as (
    select
        cohort_grid.cohort_month,
        cohort_grid.channel,
        coalesce(cohort_counts.leads, 0) as leads,
        coalesce(cohort_counts.mqls, 0) as mqls,
        coalesce(cohort_counts.sqls, 0) as sqls,
        coalesce(cohort_counts.opportunities, 0) as opportunities,
        coalesce(cohort_counts.customers, 0) as customers,
        cohort_counts.median_days_to_mql,
        cohort_counts.median_days_mql_to_sql,
        cohort_counts.median_days_sql_to_opportunity,
        cohort_counts.median_days_opportunity_to_won,
        coalesce(lag(coalesce(cohort_counts.leads, 0)) over (
            partition by cohort_grid.channel order by cohort_grid.cohort_month
        ), 0) as leads_previous_month
    from cohort_grid
    left join cohort_counts
        on cohort_grid.cohort_month = cohort_counts.cohort_month and cohort_grid.channel = cohort_counts.channel
)

select
    cohort_month,
    channel,
    cast(leads as bigint) as leads,
    cast(mqls as bigint) as mqls,
    cast(sqls as bigint) as sqls,
    cast(opportunities as bigint) as opportunities,
    cast(customers as bigint) as customers,
    floor_ratio(mqls, leads) as mql_rate,
    floor_ratio(sqls, mqls) as sql_rate,
    floor_ratio(opportunities, sqls) as opportunity_rate,
    floor_ratio(customers, opportunities) as win_rate,
    floor_ratio(customers, leads) as lead_to_customer_rate,
    floor_ratio(customers, mqls) as mql_to_customer_rate,
    cast(median_days_to_mql as double) as median_days_to_mql,
    cast(median_days_mql_to_sql as double) as median_days_mql_to_sql,
    cast(median_days_sql_to_opportunity as double) as median_days_sql_to_opportunity,
    cast(median_days_opportunity_to_won as double) as median_days_opportunity_to_won,
    cast(leads_previous_month as bigint) as leads_previous_month,
    floor_ratio(leads - leads_previous_month, leads_previous_month) as leads_growth_rate
from cohorts
order by cohort_month, channel;


-- ------------------------------------------------------------------------------------------------
-- kpi_campaign_cac_monthly and kpi_campaign_cac: four attribution rules and the unattributed row
-- ------------------------------------------------------------------------------------------------

-- The touch paths of the source leads of won deals: their touches of staged campaigns (re-exports
-- are copies: one per touch_id), or, for a lead without any, its staged source campaign at its
-- creation.
create or replace temp table floor_deal_touches as
with source_leads as (
    select distinct deals.source_lead_id as lead_id
    from floor_deals as deals
    semi join floor_lifecycle as leads on deals.source_lead_id = leads.lead_id
    where deals.is_won_by_as_of
),

typed as (
    select
        floor_text(touches.lead_id) as lead_id,
        floor_text(touches.touch_id) as touch_id,
        floor_text(touches.campaign_id) as campaign_id,
        floor_utc(floor_text(touches.touched_at)) as touched_at,
        lower(floor_text(touches.touch_type)) as touch_type
    from {reader:campaign_touches} as touches
),

valid as (
    select typed.lead_id, typed.touch_id, typed.campaign_id, typed.touched_at
    from typed
    semi join source_leads on typed.lead_id = source_leads.lead_id
    where
        typed.touch_id is not null
        and typed.touched_at is not null
        and typed.touch_type in ('impression', 'click', 'form', 'attended', 'replied')
        and typed.campaign_id in (select floor_campaigns.campaign_id from floor_campaigns)
    qualify row_number() over (partition by typed.touch_id) = 1
)

select lead_id, campaign_id, touched_at, touch_id from valid
union all
select leads.lead_id, leads.source_campaign_id, leads.created_at, null
from floor_leads as leads
semi join source_leads on leads.lead_id = source_leads.lead_id
anti join valid on leads.lead_id = valid.lead_id
where leads.source_campaign_id in (select floor_campaigns.campaign_id from floor_campaigns);

-- Each won deal's credits under each rule (summing to 1 per deal and rule); campaign null =
-- unattributed. first_touch: the source lead's first-touch campaign. The touch rules: the path's
-- touches dated within 90 days (var attribution_window_days) before the close date, both included.
create or replace temp table floor_deal_credits as
with won as (
    select
        opportunity_id,
        source_lead_id,
        close_month,
        amount,
        row_number() over (partition by account_id order by close_date, opportunity_id) = 1 as is_new_customer,
        close_date
    from floor_deals
    where is_won_by_as_of
),

paths as (
    select
        won.opportunity_id,
        touches.campaign_id,
        row_number() over (partition by won.opportunity_id order by touches.touched_at, touches.touch_id) as position,
        count(*) over (partition by won.opportunity_id) as touches
    from won
    inner join floor_deal_touches as touches on won.source_lead_id = touches.lead_id
    where cast(touches.touched_at as date) between won.close_date - interval 90 day and won.close_date
),

credits as (
    select won.opportunity_id, 'first_touch' as attribution_rule, leads.campaign_id, 1.0 as credit
    from won
    left join floor_lifecycle as leads on won.source_lead_id = leads.lead_id
    union all
    select opportunity_id, 'last_touch', campaign_id, 1.0 from paths where position = touches
    union all
    select opportunity_id, 'linear', campaign_id, cast(1 as double) / touches from paths
    union all
    select
        opportunity_id,
        'position_based',
        campaign_id,
        case
            when touches = 1 then 1.0
            when touches = 2 then 0.5
            when position in (1, touches) then 0.4
            else cast(0.2 as double) / (touches - 2)
        end
    from paths
    union all
    select won.opportunity_id, rules.attribution_rule, null, 1.0
    from won
    cross join (values ('last_touch'), ('linear'), ('position_based')) as rules (attribution_rule)
    anti join paths on won.opportunity_id = paths.opportunity_id
)

select
    credits.opportunity_id,
    credits.attribution_rule,
    credits.campaign_id,
    won.close_month,
    won.amount,
    won.is_new_customer,
    sum(cast(credits.credit as double)) as credit
from credits
inner join won on credits.opportunity_id = won.opportunity_id
group by all;

-- campaign x month x rule additive measures (unrounded): the campaign's running months and any
-- month with spend, leads created or MQLs reached (first-touch campaign, every rule), or new
-- customers or won revenue under the rule; campaign null = unattributed, only with campaigns.
create or replace temp table floor_campaign_months as
with rules as (
    select * from (values ('first_touch'), ('last_touch'), ('linear'), ('position_based')) as rules (attribution_rule)
),

rule_free as (
    select
        campaign_id,
        floor_month(spend_date) as month_start,
        sum(amount) as spend,
        0 as leads,
        0 as mqls
    from floor_campaign_spend
    where spend_date <= {as_of}
    group by campaign_id, month_start
    union all
    select campaign_id, cohort_month, 0, count(*), 0
    from floor_lifecycle
    group by campaign_id, cohort_month
    union all
    select campaign_id, floor_month(mql_at) as month_start, 0, 0, count(*)
    from floor_lifecycle
    where mql_at is not null
    group by campaign_id, month_start
    union all
    select campaigns.campaign_id, months.month_start, 0, 0, 0
    from floor_campaigns as campaigns
    inner join floor_months as months
        on
            months.month_start >= floor_month(campaigns.started_on)
            and (campaigns.ended_on >= months.month_start or campaigns.ended_on is null)
),

measures as (
    select
        rule_free.campaign_id,
        rule_free.month_start,
        rules.attribution_rule,
        rule_free.spend,
        rule_free.leads,
        rule_free.mqls,
        0.0 as new_customers,
        0.0 as attributed_revenue
    from rule_free
    cross join rules
    union all
    select
        campaign_id,
        close_month,
        attribution_rule,
        0,
        0,
        0,
        case when is_new_customer then credit else 0 end,
        amount * credit
    from floor_deal_credits
)

select
    measures.campaign_id,
    measures.month_start,
    measures.attribution_rule,
    campaigns.campaign_name,
    campaigns.channel,
    sum(measures.spend) as spend,
    sum(measures.leads) as leads,
    sum(measures.mqls) as mqls,
    sum(measures.new_customers) as new_customers,
    sum(measures.attributed_revenue) as attributed_revenue
from measures
left join floor_campaigns as campaigns on measures.campaign_id = campaigns.campaign_id
where
    campaigns.campaign_id is not null
    or (measures.campaign_id is null and exists (select 1 from floor_campaigns))
group by measures.campaign_id, measures.month_start, measures.attribution_rule, campaigns.campaign_name, campaigns.channel;

create or replace table floor.kpi_campaign_cac_monthly as
select
    coalesce(campaign_id, 'unattributed') as campaign_id,
    month_start as month,
    coalesce(campaign_name, 'Unattributed') as campaign_name,
    channel,
    attribution_rule,
    floor_money(spend) as spend,
    floor_money(spend * 0) as overhead,  -- var campaign_overhead_rate: 0 (off)
    cast(leads as bigint) as leads,
    cast(mqls as bigint) as mqls,
    cast(round(cast(new_customers as decimal(28, 8)), 6) as double) as new_customers,
    floor_money(attributed_revenue) as attributed_revenue,
    floor_ratio(floor_money(spend), leads) as cost_per_lead,
    floor_ratio(floor_money(spend), mqls) as cost_per_mql,
    floor_ratio(floor_money(spend), cast(round(cast(new_customers as decimal(28, 8)), 6) as double)) as cac,
    floor_ratio(floor_money(attributed_revenue) - floor_money(spend), floor_money(spend)) as roi
from floor_campaign_months
order by campaign_id, month, attribution_rule;

create or replace table floor.kpi_campaign_cac as
with keys as (
    select campaigns.campaign_id, campaigns.campaign_name, campaigns.channel, rules.attribution_rule
    from (
        select campaign_id, campaign_name, channel from floor_campaigns
        union all
        select 'unattributed', 'Unattributed', null where exists (select 1 from floor_campaigns)
    ) as campaigns
    cross join (values ('first_touch'), ('last_touch'), ('linear'), ('position_based')) as rules (attribution_rule)
),

totals as (
    select
        keys.campaign_id,
        keys.campaign_name,
        keys.channel,
        keys.attribution_rule,
        coalesce(sum(months.spend), 0) as spend,
        coalesce(sum(months.leads), 0) as leads,
        coalesce(sum(months.mqls), 0) as mqls,
        coalesce(sum(months.new_customers), 0) as new_customers,
        coalesce(sum(months.attributed_revenue), 0) as attributed_revenue
    from keys
    -- A campaign's totals are the sums of its months as published (each rounded), as in the mart.
    left join floor.kpi_campaign_cac_monthly as months
        on
            keys.campaign_id = months.campaign_id
            and keys.attribution_rule = months.attribution_rule
    group by keys.campaign_id, keys.campaign_name, keys.channel, keys.attribution_rule
)

select
    campaign_id,
    campaign_name,
    channel,
    attribution_rule,
    floor_money(spend) as spend,
    floor_money(spend * 0) as overhead,  -- var campaign_overhead_rate: 0 (off)
    cast(leads as bigint) as leads,
    cast(mqls as bigint) as mqls,
    cast(round(cast(new_customers as decimal(28, 8)), 6) as double) as new_customers,
    floor_money(attributed_revenue) as attributed_revenue,
    floor_ratio(floor_money(spend), leads) as cost_per_lead,
    floor_ratio(floor_money(spend), mqls) as cost_per_mql,
    floor_ratio(floor_money(spend), cast(round(cast(new_customers as decimal(28, 8)), 6) as double)) as cac,
    floor_ratio(floor_money(attributed_revenue) - floor_money(spend), floor_money(spend)) as roi
from totals
order by campaign_id, attribution_rule;


-- ------------------------------------------------------------------------------------------------
-- kpi_churn_by_cohort: subscription cohort (first active month) x months since start
-- ------------------------------------------------------------------------------------------------

create or replace table floor.kpi_churn_by_cohort as
with active_months as (
    -- end-of-month snapshots: a period [period_start, period_end) counts when it covers the snapshot
    select subscriptions.account_id, months.month_start, sum(subscriptions.mrr) as mrr
    from floor_subscriptions as subscriptions
    inner join floor_months as months
        on
            subscriptions.period_start <= months.snapshot_date
            and coalesce(subscriptions.period_end, date '9999-12-31') > months.snapshot_date
    where subscriptions.account_id in (select floor_accounts.account_id from floor_accounts)
    group by subscriptions.account_id, months.month_start
),

cohorts as (
    select account_id, min(month_start) as cohort_month, arg_min(mrr, month_start) as starting_mrr
    from active_months
    group by account_id
),

account_months as (
    select
        cohorts.cohort_month,
        cast(date_diff('month', cohorts.cohort_month, months.month_start) as integer) as months_since_start,
        months.month_start,
        active_months.account_id is not null as is_active,
        coalesce(active_months.mrr, 0) as mrr,
        cohorts.starting_mrr,
        least(coalesce(active_months.mrr, 0), cohorts.starting_mrr) as retained_mrr
    from cohorts
    inner join floor_months as months on cohorts.cohort_month <= months.month_start
    left join active_months
        on cohorts.account_id = active_months.account_id and months.month_start = active_months.month_start
),

cohort_months as (
    select
        cohort_month,
        months_since_start,
        month_start,
        count(*) as cohort_size,
        count(*) filter (where is_active) as active_customers,
        sum(starting_mrr) as starting_mrr,
        sum(mrr) as mrr,
        sum(retained_mrr) as retained_mrr
    from account_months
    group by cohort_month, months_since_start, month_start
)

select
    cohort_month,
    months_since_start,
    month_start as month,
    cast(cohort_size as bigint) as cohort_size,
    cast(active_customers as bigint) as active_customers,
    cast(cohort_size - active_customers as bigint) as churned_customers,
    floor_ratio(active_customers, cohort_size) as logo_retention,
    floor_ratio(cohort_size - active_customers, cohort_size) as logo_churn,
    floor_money(starting_mrr) as starting_mrr,
    floor_money(mrr) as mrr,
    floor_money(retained_mrr) as retained_mrr,
    floor_ratio(floor_money(retained_mrr), floor_money(starting_mrr)) as gross_revenue_retention,
    floor_ratio(floor_money(mrr), floor_money(starting_mrr)) as net_revenue_retention
from cohort_months
order by cohort_month, months_since_start;


-- ------------------------------------------------------------------------------------------------
-- kpi_revenue_per_rep: rep x month (employed months plus any month with a closed deal)
-- ------------------------------------------------------------------------------------------------

create or replace table floor.kpi_revenue_per_rep as
with closed_deals as (
    select
        owner_user_id as user_id,
        close_month as month_start,
        sum(case when is_won_by_as_of then amount else 0 end) as bookings,
        count(*) filter (where is_won_by_as_of) as won_deals,
        count(*) filter (where is_lost_by_as_of) as lost_deals,
        sum(case when is_lost_by_as_of then amount else 0 end) as lost_amount
    from floor_deals
    where is_closed_by_as_of
    group by owner_user_id, close_month
),

monthly_quotas as (
    select user_id, floor_month(month_start) as month_start, sum(amount) as quota
    from floor_quotas
    where user_id is not null
    group by user_id, floor_month(month_start)
),

-- The reps, and the users with a quota row (a month with a quota is a row even after the user left).
reps as (
    select user_id, full_name, role, hired_on, left_on
    from floor_users
    where
        role in ('ae', 'am')
        or user_id in (select closed_deals.user_id from closed_deals)
        or user_id in (select monthly_quotas.user_id from monthly_quotas)
),

rep_months as (
    select reps.user_id, months.month_start
    from reps
    inner join floor_months as months
        on months.month_start >= floor_month(reps.hired_on) and (reps.left_on >= months.month_start or reps.left_on is null)
    where reps.role in ('ae', 'am') or reps.user_id in (select closed_deals.user_id from closed_deals)
    union
    select user_id, month_start
    from closed_deals
    union
    select monthly_quotas.user_id, monthly_quotas.month_start
    from monthly_quotas
    inner join floor_months as months on monthly_quotas.month_start = months.month_start
),

measures as (
    select
        rep_months.user_id,
        rep_months.month_start,
        reps.full_name as rep_name,
        reps.role,
        coalesce(closed_deals.bookings, 0) as bookings,
        coalesce(closed_deals.won_deals, 0) as won_deals,
        coalesce(closed_deals.lost_deals, 0) as lost_deals,
        coalesce(closed_deals.lost_amount, 0) as lost_amount,
        monthly_quotas.quota
    from rep_months
    inner join reps on rep_months.user_id = reps.user_id
    left join closed_deals
        on rep_months.user_id = closed_deals.user_id and rep_months.month_start = closed_deals.month_start
    left join monthly_quotas
        on rep_months.user_id = monthly_quotas.user_id and rep_months.month_start = monthly_quotas.month_start
)

select
    user_id,
    month_start as month,
    rep_name,
    role,
    floor_money(bookings) as bookings,
    cast(won_deals as bigint) as won_deals,
    cast(lost_deals as bigint) as lost_deals,
    floor_money(lost_amount) as lost_amount,
    floor_ratio(floor_money(bookings), won_deals) as average_deal_size,
    floor_ratio(won_deals, won_deals + lost_deals) as win_rate,
    floor_ratio(floor_money(bookings), floor_money(bookings) + floor_money(lost_amount)) as amount_win_rate,
    floor_money(quota) as quota,
    floor_ratio(floor_money(bookings), floor_money(quota)) as quota_attainment
from measures
order by user_id, month;
