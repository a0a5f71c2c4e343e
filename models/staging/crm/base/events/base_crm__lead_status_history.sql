{{ config(event_time='changed_at') }}

{{ crm_kpi.typed_raw_rows('lead_status_history') }}
