{{ config(event_time='changed_at') }}

{{ crm_kpi.typed_raw_rows('opportunity_stage_history') }}
