{{ crm_kpi.typed_raw_rows('exchange_rates') }}
