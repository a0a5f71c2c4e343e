{{ config(pre_hook="{{ crm_kpi.delete_base_window('changed_at') }}") }}

{{ crm_kpi.typed_raw_rows('lead_status_history', window={'column': 'changed_at'}) }}
