{{ config(pre_hook="{{ crm_kpi.delete_base_window('occurred_at') }}") }}

{{ crm_kpi.typed_raw_rows('activities', window={'column': 'occurred_at'}) }}
