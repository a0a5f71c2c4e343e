with

leads as (
    select * from {{ ref('int_leads_lifecycle') }}
),

attributed_leads as (
    select * from {{ ref('int_leads_attributed') }}
),

final as (
    select
        leads.lead_id,
        leads.lead_person_key,
        leads.created_at,
        leads.cohort_month,
        leads.channel,
        leads.source_campaign_id,
        attributed_leads.attributed_campaign_id,
        attributed_leads.attribution_rule,
        leads.owner_user_id,
        leads.region,
        leads.country,
        leads.current_status,
        leads.converted_account_id,
        leads.mql_at,
        leads.sql_at,
        leads.opportunity_at,
        leads.won_on,
        leads.disqualified_at,
        leads.is_mql,
        leads.is_sql,
        leads.has_opportunity,
        leads.is_won
    from leads
    left join attributed_leads
        on leads.lead_id = attributed_leads.lead_id
)

select * from final
