{{ config(event_time='changed_at') }}

{{ crm_kpi.typed_raw_rows(
    'opportunity_stage_history',
    checks=[{'column': 'stage', 'condition': 'converted.stage not in (select stage from ' ~ ref('stg_crm__stages') ~ ')', 'reason': 'unknown stage (not in stages)'}]
) }}
