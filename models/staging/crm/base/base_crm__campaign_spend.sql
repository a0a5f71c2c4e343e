{{ crm_kpi.typed_raw_rows(
    'campaign_spend',
    money=[{'amount': ['amount'], 'currency': 'currency', 'on': 'typed.spend_date'}],
    checks=[{'column': 'amount', 'condition': 'converted.original_amount < 0', 'reason': 'negative spend'}]
) }}
