{{ config(pre_hook="{{ crm_kpi.delete_base_window('issued_on', var('incremental_lookback_days_invoices')) }}") }}

{{ crm_kpi.typed_raw_rows(
    'invoices',
    money=[{'amount': ['amount'], 'currency': 'currency', 'on': 'typed.issued_on'}],
    window={'column': 'issued_on', 'lookback_days': var('incremental_lookback_days_invoices')}
) }}
