{{ crm_kpi.typed_raw_rows('opportunity_stage_history') }}
