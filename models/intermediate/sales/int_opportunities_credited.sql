{#-
    One row per opportunity in scope (int_opportunities_classified) with what the sales KPIs credit it
    to: the owner's team and that team's manager on the close date (closed deals), the account's region,
    country, industry and owner, the source lead's creation time, and the sales cycle in days.
    The team day is joined on the close date of a closed deal only (null for an open one, which matches
    no day): a condition on the deal alone in the ON clause would turn the hash join into a nested loop.
-#}
with

opportunities as (
    select * from {{ ref('int_opportunities_classified') }}
),

team_days as (
    select * from {{ ref('int_team_memberships_daily') }}
),

accounts as (
    select * from {{ ref('stg_crm__accounts') }}
),

leads as (
    select
        lead_id,
        created_at
    from {{ ref('stg_crm__leads') }}
),

final as (
    select
        opportunities.opportunity_id,
        opportunities.account_id,
        opportunities.owner_user_id,
        opportunities.source_lead_id,
        opportunities.opportunity_type,
        opportunities.created_at,
        opportunities.close_date,
        opportunities.stage,
        opportunities.is_closed_by_as_of,
        opportunities.is_won_by_as_of,
        opportunities.is_lost_by_as_of,
        opportunities.amount,
        opportunities.exchange_rate,
        opportunities.competitor_id,
        opportunities.competitor_id is not null as has_competitor,
        team_days.team_id as team_id_at_close,
        team_days.manager_user_id as manager_user_id_at_close,
        accounts.region as account_region,
        accounts.country as account_country,
        accounts.industry as account_industry,
        accounts.owner_user_id as account_owner_user_id,
        leads.created_at as lead_created_at,
        {{ dbt.datediff('cast(opportunities.created_at as date)', 'opportunities.close_date', 'day') }} as days_to_close,
        {{ dbt.datediff('cast(leads.created_at as date)', 'opportunities.close_date', 'day') }} as days_from_lead_to_close
    from opportunities
    left join team_days
        on
            opportunities.owner_user_id = team_days.user_id
            and case when opportunities.is_closed_by_as_of then opportunities.close_date end = team_days.date_day
    left join accounts
        on opportunities.account_id = accounts.account_id
    left join leads
        on opportunities.source_lead_id = leads.lead_id
)

select * from final
