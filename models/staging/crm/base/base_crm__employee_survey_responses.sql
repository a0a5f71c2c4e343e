{{ crm_kpi.typed_raw_rows(
    'employee_survey_responses',
    checks=[{'column': 'score', 'condition': 'converted.score < 0 or converted.score > 10', 'reason': 'score out of range (0-10)'}]
) }}
