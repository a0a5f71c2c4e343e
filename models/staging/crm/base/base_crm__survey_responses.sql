{{ crm_kpi.typed_raw_rows('survey_responses') }}
