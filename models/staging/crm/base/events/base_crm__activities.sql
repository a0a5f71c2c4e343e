{{ crm_kpi.typed_raw_rows('activities') }}
