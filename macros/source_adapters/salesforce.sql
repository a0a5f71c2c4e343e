{#
    The Salesforce adapter (models/staging/salesforce): Salesforce objects, as the Data Export or
    Airbyte writes them (API names: OwnerId, IsDeleted, Sales_Role__c) or as Fivetran lands them
    (snake_case: owner_id, is_deleted, sales_role_c), mapped into the raw contract's tables. Column
    names are matched once, here: a field is found by its name lower-cased without underscores
    (`Product2Id`, `product_2_id` and `product2id` are one field).
#}

{#- The Salesforce objects the adapter reads and the fields it reads of each (snake_case). -#}
{% macro salesforce_objects() -%}
    {{ return({
        'User': ['id', 'name', 'email', 'sales_role_c', 'manager_id', 'user_role_id', 'region_c', 'country', 'hire_date_c', 'termination_date_c', 'is_active', 'created_date', 'last_modified_date', 'is_deleted', 'fivetran_deleted'],
        'UserRole': ['id', 'name', 'forecast_user_id', 'region_c', 'last_modified_date'],
        'Campaign': ['id', 'name', 'type', 'region_c', 'start_date', 'end_date', 'budgeted_cost', 'currency_iso_code', 'last_modified_date', 'is_deleted'],
        'Lead': ['id', 'created_date', 'source_campaign_c', 'lead_source', 'owner_id', 'region_c', 'country_code', 'company', 'first_name', 'last_name', 'email', 'phone', 'status', 'converted_account_id', 'converted_opportunity_id', 'converted_date', 'last_modified_date', 'is_deleted'],
        'LeadHistory': ['lead_id', 'field', 'old_value', 'new_value', 'created_date', 'is_deleted'],
        'CampaignMember': ['id', 'campaign_id', 'lead_id', 'status', 'created_date', 'is_deleted'],
        'Account': ['id', 'name', 'industry', 'number_of_employees', 'region_c', 'billing_country_code', 'owner_id', 'created_date', 'last_modified_date', 'is_deleted'],
        'Opportunity': ['id', 'account_id', 'owner_id', 'type', 'created_date', 'close_date', 'stage_name', 'amount', 'currency_iso_code', 'loss_reason_c', 'competitor_c', 'last_modified_date', 'is_deleted'],
        'OpportunityHistory': ['opportunity_id', 'id', 'stage_name', 'amount', 'close_date', 'created_date', 'fivetran_start', 'is_deleted'],
        'OpportunityStage': ['master_label', 'sort_order', 'default_probability', 'is_closed', 'is_won', 'is_active'],
        'Product2': ['id', 'name', 'family', 'tier_c', 'unit_cost_c', 'currency_iso_code', 'last_modified_date', 'is_active', 'is_deleted'],
        'PricebookEntry': ['pricebook_2_id', 'product_2_id', 'unit_price', 'currency_iso_code', 'is_active', 'is_deleted'],
        'OpportunityLineItem': ['id', 'opportunity_id', 'product_2_id', 'quantity', 'unit_price', 'discount', 'is_deleted'],
        'Task': ['id', 'type', 'call_type', 'owner_id', 'who_id', 'what_id', 'account_id', 'completed_date_time', 'created_date', 'call_disposition', 'is_deleted'],
        'Event': ['id', 'type', 'direction_c', 'owner_id', 'who_id', 'what_id', 'account_id', 'start_date_time', 'outcome_c', 'is_deleted'],
        'DatedConversionRate': ['iso_code', 'start_date', 'conversion_rate'],
    }) }}
{%- endmacro %}

{#- The contract tables the adapter feeds and the objects each comes from; the others are read as contract files beside the export. -#}
{% macro salesforce_table_objects() -%}
    {{ return({'users': ['User'], 'teams': ['UserRole'], 'campaigns': ['Campaign'], 'leads': ['Lead'], 'lead_status_history': ['LeadHistory'], 'campaign_touches': ['CampaignMember'], 'accounts': ['Account'], 'opportunities': ['Opportunity', 'Lead'], 'opportunity_stage_history': ['OpportunityHistory'], 'stages': ['OpportunityStage'], 'products': ['Product2', 'PricebookEntry'], 'opportunity_line_items': ['OpportunityLineItem'], 'activities': ['Task', 'Event'], 'exchange_rates': ['DatedConversionRate']}) }}
{%- endmacro %}

{% macro salesforce_tables() -%}
    {{ return(crm_kpi.salesforce_table_objects().keys() | list) }}
{%- endmacro %}

{#- Where an adapted table's rows come from, for the quarantine report: its objects' files (or tables), e.g. `/x/Task.csv + /x/Event.csv`. -#}
{% macro source_adapter_origin(table_name) -%}
    {%- set raw_path = env_var('CRM_KPI_RAW_PATH', '') -%}
    {%- set names = [] -%}
    {%- for object_name in crm_kpi.salesforce_table_objects()[table_name] -%}
        {%- do names.append(raw_path ~ '/' ~ object_name ~ '.' ~ env_var('CRM_KPI_RAW_FORMAT', 'csv') if raw_path else crm_kpi.salesforce_raw_schema() ~ '.' ~ object_name) -%}
    {%- endfor -%}
    {{ return(names | join(' + ')) }}
{%- endmacro %}

{#- The contract tables a source adapter feeds in this build (CRM_KPI_SOURCE; none for the native files). -#}
{% macro source_adapter_tables() -%}
    {%- set source_system = env_var('CRM_KPI_SOURCE', 'crm') -%}
    {%- if source_system == 'salesforce' -%}
        {{ return(crm_kpi.salesforce_tables()) }}
    {%- elif source_system != 'crm' -%}
        {{ exceptions.raise_compiler_error("CRM_KPI_SOURCE=" ~ source_system ~ ": crm (the contract's files) or salesforce") }}
    {%- endif -%}
    {{ return([]) }}
{%- endmacro %}

{#- A field's key for matching names: lower case without underscores. -#}
{% macro salesforce_field_key(name) -%}
    {{ return(name | lower | replace('_', '')) }}
{%- endmacro %}

{#
    The rows of one Salesforce object with its fields under their snake_case names (null when the
    export lacks the field; no row when it lacks the object), every value as trimmed text, and the
    row's position in its file or table (source_row_number).
#}
{% macro salesforce_object_rows(object_name) -%}
    {%- set wanted = crm_kpi.salesforce_objects()[object_name] -%}
    {%- set renamed = var('salesforce_fields', {}).get(object_name, {}) -%}
    {#- The source, named at parse time too: the model's lineage (read from a file, or in place). -#}
    {%- do source('salesforce', object_name) -%}
    {%- set relation = crm_kpi.salesforce_object_relation(object_name) if execute else none -%}
    {%- set found = {} -%}
    {%- if relation is not none -%}
        {%- set probe = run_query('select * from ' ~ relation ~ ' as probe where 1 = 0') -%}
        {%- for name in probe.column_names -%}
            {%- do found.update({crm_kpi.salesforce_field_key(name): name}) -%}
        {%- endfor -%}
    {%- endif %}
    select
        cast({{ 'source_row_number' if relation is not none else 'null' }} as {{ dbt.type_bigint() }}) as source_row_number,
    {%- for name in wanted %}
        {%- set actual = found.get(crm_kpi.salesforce_field_key(renamed.get(name, name))) %}
        {{ "nullif(trim(cast(" ~ adapter.quote(actual) ~ " as " ~ dbt.type_string() ~ ")), '')" if actual else "cast(null as " ~ dbt.type_string() ~ ")" }} as {{ name }}{{ "," if not loop.last }}
    {%- endfor %}
    {%- if relation is not none %}
    from {{ relation }} as object_rows
    {%- else %}
    where 1 = 0
    {%- endif %}
{%- endmacro %}

{#
    The object's rows with source_row_number, as SQL to select from, or none when the export lacks it:
    its non-empty file `<object>.<format>` in CRM_KPI_RAW_PATH (the source), else its table in the raw
    schema (salesforce_raw_schema) found by salesforce_field_key (`OpportunityLineItem`, Fivetran's
    `opportunity_line_item`), read in place and numbered in the table's order.
#}
{% macro salesforce_object_relation(object_name) -%}
    {%- set source_relation = source('salesforce', object_name) -%}
    {%- set raw_path = env_var('CRM_KPI_RAW_PATH', '') -%}
    {%- if raw_path -%}
        {%- set pattern = raw_path ~ '/' ~ object_name ~ '.' ~ env_var('CRM_KPI_RAW_FORMAT', 'csv') -%}
        {%- set found = run_query("select size from read_blob('" ~ pattern | replace("'", "''") ~ "')") -%}
        {{ return(source_relation if found.rows | length > 0 and found.columns[0].values()[0] > 0 else none) }}
    {%- endif -%}
    {%- set schema = crm_kpi.salesforce_raw_schema() -%}
    {%- set tables = run_query("select table_name from information_schema.tables where table_schema = '" ~ schema | replace("'", "''") ~ "'") -%}
    {%- for name in tables.columns[0].values() -%}
        {%- if crm_kpi.salesforce_field_key(name) == crm_kpi.salesforce_field_key(object_name) -%}
            {%- set relation = api.Relation.create(database=target.database, schema=schema, identifier=name) -%}
            {{ return('(select row_number() over () as source_row_number, * from ' ~ relation ~ ')') }}
        {%- endif -%}
    {%- endfor -%}
    {{ return(none) }}
{%- endmacro %}

{#- The schema a Salesforce export is read from in place (var raw_schema; default salesforce). -#}
{% macro salesforce_raw_schema() -%}
    {{ return(var('raw_schema', '') or 'salesforce') }}
{%- endmacro %}

{#
    A Salesforce id in its 18-character form: a 15-character id (case-sensitive, as reports and
    some exports write it) gets its checksum suffix, one character per five: bit i set when the
    i-th character of the five is an upper-case letter, the value's letter in A-Z0-5. Anything else
    is kept as it is.
#}
{% macro salesforce_id(expr) -%}
    {%- set parts = [] -%}
    {%- for chunk in range(3) -%}
        {%- set bits = [] -%}
        {%- for position in range(5) -%}
            {%- do bits.append("case when ascii(substr(" ~ expr ~ ", " ~ (chunk * 5 + position + 1) ~ ", 1)) between 65 and 90 then " ~ 2 ** position ~ " else 0 end") -%}
        {%- endfor -%}
        {%- do parts.append("substr('ABCDEFGHIJKLMNOPQRSTUVWXYZ012345', 1 + " ~ bits | join(' + ') ~ ", 1)") -%}
    {%- endfor -%}
    case when length({{ expr }}) = 15 then {{ dbt.concat([expr] + parts) }} else {{ expr }} end
{%- endmacro %}

{#
    A picklist value as a contract value: trimmed, lower-cased, every run of other characters than
    letters and digits as one underscore (`Closed Won` -> closed_won), then looked up in the
    picklist's mapping (var salesforce_picklists, over the defaults below: Salesforce's standard
    values and other languages' labels). A value the mapping does not know stays as normalised and
    the contract's check quarantines it as an unknown value.
#}
{% macro salesforce_picklist(expr, picklist) -%}
    {%- set mapping = crm_kpi.salesforce_picklist_defaults().get(picklist, {}) -%}
    {%- set overrides = var('salesforce_picklists', {}).get(picklist, {}) -%}
    {%- set merged = {} -%}
    {%- for key, value in mapping.items() %}{% do merged.update({key: value}) %}{% endfor -%}
    {%- for key, value in overrides.items() %}{% do merged.update({crm_kpi.picklist_key(key): value}) %}{% endfor -%}
    {%- set normalised = "trim(both '_' from " ~ crm_kpi.regexp_replace_all("lower(trim(" ~ expr ~ "))", "[^a-z0-9]+", "_") ~ ")" -%}
    {%- if merged -%}
        case {{ normalised }}
        {%- for key, value in merged.items() %}
            when '{{ key }}' then '{{ value }}'
        {%- endfor %}
            else {{ normalised }}
        end
    {%- else -%}
        {{ normalised }}
    {%- endif -%}
{%- endmacro %}

{#- The key a picklist value is matched on (as salesforce_picklist normalises it, in Jinja). -#}
{% macro picklist_key(value) -%}
    {{ return(modules.re.sub('[^a-z0-9]+', '_', value | trim | lower).strip('_')) }}
{%- endmacro %}

{% macro salesforce_picklist_defaults() -%}
    {{ return({
        'lead_status': {'open_not_contacted': 'new', 'working_contacted': 'working', 'closed_converted': 'converted', 'closed_not_converted': 'disqualified', 'qualified': 'sql', 'unqualified': 'disqualified', 'nurturing': 'recycled'},
        'opportunity_type': {'new_customer': 'new_business', 'existing_customer_upgrade': 'upsell', 'existing_customer_replacement': 'cross_sell', 'existing_customer_downgrade': 'renewal'},
        'stage': {'closed_gewonnen': 'closed_won', 'closed_verloren': 'closed_lost', 'ferme_gagne': 'closed_won', 'ferme_perdu': 'closed_lost'},
        'channel': {'web': 'organic', 'advertisement': 'display', 'phone_inquiry': 'outbound', 'partner_referral': 'partner', 'purchased_list': 'outbound', 'conference': 'events', 'trade_show': 'events', 'employee_referral': 'referral', 'external_referral': 'referral', 'seminar_partner': 'partner', 'public_relations': 'content', 'other': 'organic'},
        'touch_type': {'sent': 'impression', 'responded': 'replied', 'clicked': 'click', 'opened': 'impression', 'registered': 'form'},
        'activity_type': {},
        'direction': {},
        'outcome': {},
        'role': {},
    }) }}
{%- endmacro %}

{#- regexp_replace of every match (DuckDB and PostgreSQL need the 'g' flag; Spark replaces all). -#}
{% macro regexp_replace_all(expr, pattern, replacement) -%}
    {{ return(adapter.dispatch('regexp_replace_all', 'crm_kpi')(expr, pattern, replacement)) }}
{%- endmacro %}

{% macro default__regexp_replace_all(expr, pattern, replacement) -%}
    regexp_replace({{ expr }}, '{{ pattern }}', '{{ replacement }}', 'g')
{%- endmacro %}

{% macro spark__regexp_replace_all(expr, pattern, replacement) -%}
    regexp_replace({{ expr }}, '{{ pattern }}', '{{ replacement }}')
{%- endmacro %}

{#- A Salesforce checkbox (true, 1; empty is false) as a SQL condition. -#}
{% macro salesforce_is_true(expr) -%}
    coalesce(lower({{ expr }}) in ('true', '1'), false)
{%- endmacro %}

{#- A percent (Discount, DefaultProbability) as the contract's fraction; text that is no number stays as it is. -#}
{% macro salesforce_percent(expr) -%}
    coalesce(cast({{ crm_kpi.try_cast(expr, crm_kpi.type_double()) }} / 100 as {{ dbt.type_string() }}), {{ expr }})
{%- endmacro %}

{#- CurrencyIsoCode, or the corporate currency of an org without multi-currency (var reporting_currency). -#}
{% macro salesforce_currency(expr) -%}
    coalesce({{ expr }}, '{{ crm_kpi.checked_var("reporting_currency") | upper }}')
{%- endmacro %}
