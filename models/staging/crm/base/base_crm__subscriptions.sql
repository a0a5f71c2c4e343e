{{ crm_kpi.typed_raw_rows(
    'subscriptions',
    money=[{'amount': ['mrr'], 'currency': 'currency', 'on': 'typed.period_start'}],
    checks=[{'column': 'period_end', 'condition': 'converted.period_end <= converted.period_start', 'reason': 'period_end must be after period_start'}, {'column': 'mrr', 'condition': 'converted.original_mrr < 0', 'reason': 'negative mrr'}]
) }}
