{{ crm_kpi.typed_raw_rows(
    'competitor_prices',
    money=[{'amount': ['price'], 'currency': 'currency', 'on': 'typed.observed_on'}]
) }}
