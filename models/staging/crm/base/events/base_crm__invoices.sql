{{ config(event_time='issued_on', meta={'lookback_days': var('incremental_lookback_days_invoices')}) }}

{{ crm_kpi.typed_raw_rows('invoices') }}
