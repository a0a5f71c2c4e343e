{{ config(pre_hook="{{ crm_kpi.delete_base_window('touched_at') }}") }}

{{ crm_kpi.typed_raw_rows('campaign_touches', window={'column': 'touched_at'}) }}
