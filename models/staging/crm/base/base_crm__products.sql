{{ crm_kpi.typed_raw_rows(
    'products',
    money=[{'amount': ['list_price', 'unit_cost'], 'currency': 'currency', 'on': 'cast(typed.updated_at as date)'}]
) }}
