{#- Salesforce has no source-lead field on an opportunity: the lead converted into it (Lead.ConvertedOpportunityId). -#}
with

opportunities as (
    select * from {{ ref('base_salesforce__opportunity') }}
),

leads as (
    select * from {{ ref('base_salesforce__lead') }}
),

converted_leads as (
    select
        {{ crm_kpi.salesforce_id('converted_opportunity_id') }} as opportunity_id,
        min({{ crm_kpi.salesforce_id('id') }}) as lead_id
    from leads
    where converted_opportunity_id is not null
    group by {{ crm_kpi.salesforce_id('converted_opportunity_id') }}
),

final as (
    select
        opportunities.source_row_number,
        {{ crm_kpi.salesforce_id('opportunities.id') }} as opportunity_id,
        {{ crm_kpi.salesforce_id('opportunities.account_id') }} as account_id,
        {{ crm_kpi.salesforce_id('opportunities.owner_id') }} as owner_user_id,
        converted_leads.lead_id as source_lead_id,
        {{ crm_kpi.salesforce_picklist('opportunities.type', 'opportunity_type') }} as opportunity_type,
        opportunities.created_date as created_at,
        opportunities.close_date,
        {{ crm_kpi.salesforce_picklist('opportunities.stage_name', 'stage') }} as stage,  -- noqa: RF04
        opportunities.amount,
        {{ crm_kpi.salesforce_currency('opportunities.currency_iso_code') }} as currency,
        opportunities.loss_reason_c as lost_reason,
        opportunities.competitor_c as competitor_id,
        opportunities.last_modified_date as updated_at,
        opportunities.is_deleted
    from opportunities
    left join converted_leads
        on {{ crm_kpi.salesforce_id('opportunities.id') }} = converted_leads.opportunity_id
)

select * from final
