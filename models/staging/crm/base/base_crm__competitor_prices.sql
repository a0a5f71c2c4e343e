{{ crm_kpi.typed_raw_rows('competitor_prices') }}
