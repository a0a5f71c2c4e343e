{{ crm_kpi.typed_raw_rows(
    'stages',
    checks=[{'column': 'probability', 'condition': 'converted.probability < 0 or converted.probability > 1', 'reason': 'probability out of range (0-1)'}]
) }}
