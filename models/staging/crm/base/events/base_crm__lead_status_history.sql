{{ crm_kpi.typed_raw_rows('lead_status_history') }}
