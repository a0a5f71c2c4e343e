{{ config(event_time='occurred_at') }}

{{ crm_kpi.typed_raw_rows('activities') }}
