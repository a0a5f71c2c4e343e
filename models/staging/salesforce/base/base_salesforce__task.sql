{{ crm_kpi.salesforce_object_rows('Task') }}
