{{ crm_kpi.typed_raw_rows(
    'opportunity_line_items',
    checks=[{'column': 'discount', 'condition': 'converted.discount < 0 or converted.discount > 1', 'reason': 'discount out of range (0-1)'}]
) }}
