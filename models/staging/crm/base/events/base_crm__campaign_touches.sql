{{ config(event_time='touched_at') }}

{{ crm_kpi.typed_raw_rows('campaign_touches') }}
