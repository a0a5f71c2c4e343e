{{ crm_kpi.typed_raw_rows(
    'survey_responses',
    checks=[{'column': 'score', 'condition': "(converted.survey_type = 'nps' and (converted.score < 0 or converted.score > 10)) or (converted.survey_type = 'csat' and (converted.score < 1 or converted.score > 10))", 'reason': 'score out of range (nps 0-10, csat 1-10)'}]
) }}
