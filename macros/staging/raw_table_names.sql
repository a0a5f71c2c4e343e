{# Rendered from src/crm_kpi/contract.py by `crm-kpi render-yaml`; edit the contract, not this file. #}
{# The raw tables of the contract (a static list: refs built from it must exist at parse time). #}
{% macro raw_table_names() -%}
    {{ return(['users', 'teams', 'team_memberships', 'quotas', 'campaigns', 'campaign_spend', 'leads', 'lead_status_history', 'campaign_touches', 'accounts', 'opportunities', 'opportunity_stage_history', 'stages', 'products', 'opportunity_line_items', 'subscriptions', 'invoices', 'refunds', 'activities', 'survey_responses', 'employee_survey_responses', 'competitors', 'competitor_prices', 'exchange_rates']) }}
{%- endmacro %}

{# The staging models each base model looks values up in (refs known at parse time). #}
{% macro raw_table_lookups(table_name) -%}
    {{ return({'quotas': ['stg_crm__exchange_rates'], 'campaigns': ['stg_crm__exchange_rates'], 'campaign_spend': ['stg_crm__exchange_rates'], 'opportunities': ['stg_crm__exchange_rates', 'stg_crm__stages'], 'opportunity_stage_history': ['stg_crm__stages'], 'products': ['stg_crm__exchange_rates'], 'subscriptions': ['stg_crm__exchange_rates'], 'invoices': ['stg_crm__exchange_rates'], 'refunds': ['stg_crm__exchange_rates'], 'competitor_prices': ['stg_crm__exchange_rates']}.get(table_name, [])) }}
{%- endmacro %}
