{# Rendered from src/crm_kpi/contract.py by `crm-kpi render-yaml`; edit the contract, not this file. #}
{# The raw tables of the contract (a static list: refs built from it must exist at parse time). #}
{% macro raw_table_names() -%}
    {{ return(['users', 'teams', 'team_memberships', 'quotas', 'campaigns', 'campaign_spend', 'leads', 'lead_status_history', 'campaign_touches', 'accounts', 'opportunities', 'opportunity_stage_history', 'stages', 'products', 'opportunity_line_items', 'subscriptions', 'invoices', 'refunds', 'activities', 'survey_responses', 'employee_survey_responses', 'competitors', 'competitor_prices', 'exchange_rates']) }}
{%- endmacro %}

{# The event tables (incremental, append-only exports): their conflicts resolve in staging. #}
{% macro raw_event_table_names() -%}
    {{ return(['lead_status_history', 'campaign_touches', 'opportunity_stage_history', 'invoices', 'activities']) }}
{%- endmacro %}

{# The raw tables each table references: (column, table, quarantining), for audit_crm__orphan_keys. #}
{% macro raw_table_references(table_name) -%}
    {{ return({'users': [('manager_user_id', 'users', False)], 'teams': [('manager_user_id', 'users', False)], 'team_memberships': [('user_id', 'users', True), ('team_id', 'teams', True)], 'quotas': [('user_id', 'users', False), ('team_id', 'teams', False)], 'campaign_spend': [('campaign_id', 'campaigns', True)], 'leads': [('source_campaign_id', 'campaigns', False), ('owner_user_id', 'users', False), ('converted_account_id', 'accounts', False), ('converted_opportunity_id', 'opportunities', False)], 'lead_status_history': [('lead_id', 'leads', False)], 'campaign_touches': [('campaign_id', 'campaigns', False), ('lead_id', 'leads', False)], 'accounts': [('owner_user_id', 'users', False)], 'opportunities': [('account_id', 'accounts', True), ('owner_user_id', 'users', True), ('source_lead_id', 'leads', False), ('competitor_id', 'competitors', False)], 'opportunity_stage_history': [('opportunity_id', 'opportunities', False)], 'opportunity_line_items': [('opportunity_id', 'opportunities', True), ('product_id', 'products', True)], 'subscriptions': [('account_id', 'accounts', True), ('product_id', 'products', True)], 'invoices': [('account_id', 'accounts', False), ('opportunity_id', 'opportunities', False)], 'refunds': [('invoice_id', 'invoices', True)], 'activities': [('user_id', 'users', False), ('lead_id', 'leads', False), ('opportunity_id', 'opportunities', False), ('account_id', 'accounts', False)], 'survey_responses': [('account_id', 'accounts', True), ('product_id', 'products', False)], 'employee_survey_responses': [('user_id', 'users', True)], 'competitor_prices': [('competitor_id', 'competitors', True), ('product_id', 'products', True)]}.get(table_name, [])) }}
{%- endmacro %}

{# The models each base model looks values up in (refs known at parse time). #}
{% macro raw_table_lookups(table_name) -%}
    {{ return({'team_memberships': ['base_crm__teams', 'base_crm__users'], 'quotas': ['stg_crm__exchange_rates'], 'campaigns': ['stg_crm__exchange_rates'], 'campaign_spend': ['stg_crm__exchange_rates', 'base_crm__campaigns'], 'opportunities': ['stg_crm__exchange_rates', 'stg_crm__stages', 'base_crm__accounts', 'base_crm__users'], 'opportunity_stage_history': ['stg_crm__stages'], 'products': ['stg_crm__exchange_rates'], 'opportunity_line_items': ['base_crm__opportunities', 'base_crm__products'], 'subscriptions': ['stg_crm__exchange_rates', 'base_crm__accounts', 'base_crm__products'], 'invoices': ['stg_crm__exchange_rates'], 'refunds': ['stg_crm__exchange_rates', 'base_crm__invoices'], 'survey_responses': ['base_crm__accounts'], 'employee_survey_responses': ['base_crm__users'], 'competitor_prices': ['stg_crm__exchange_rates', 'base_crm__competitors', 'base_crm__products']}.get(table_name, [])) }}
{%- endmacro %}
