{{ crm_kpi.typed_raw_rows(
    'opportunities',
    money=[{'amount': ['amount'], 'currency': 'currency', 'on': 'cast(typed.created_at as date)'}],
    checks=[{'column': 'stage', 'condition': 'converted.stage not in (select stage from ' ~ ref('stg_crm__stages') ~ ')', 'reason': 'unknown stage (not in stages)'}, {'column': 'amount', 'condition': 'converted.original_amount < 0', 'reason': 'negative amount'}]
) }}
