{{ crm_kpi.typed_raw_rows('campaign_touches') }}
