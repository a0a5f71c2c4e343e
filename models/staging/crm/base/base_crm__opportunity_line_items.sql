{{ crm_kpi.typed_raw_rows('opportunity_line_items') }}
