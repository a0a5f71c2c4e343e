{{ crm_kpi.typed_raw_rows(
    'invoices',
    money=[{'amount': ['amount'], 'currency': 'currency', 'on': 'typed.issued_on'}]
) }}
