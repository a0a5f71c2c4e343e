{{ crm_kpi.typed_raw_rows(
    'campaigns',
    money=[{'amount': ['budget'], 'currency': 'currency', 'on': 'cast(typed.updated_at as date)'}]
) }}
