{{ crm_kpi.typed_raw_rows('employee_survey_responses') }}
