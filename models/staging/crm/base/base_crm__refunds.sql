{{ crm_kpi.typed_raw_rows(
    'refunds',
    money=[{'amount': ['amount'], 'currency': 'currency', 'on': 'typed.refunded_on'}]
) }}
