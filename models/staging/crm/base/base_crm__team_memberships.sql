{{ crm_kpi.typed_raw_rows('team_memberships') }}
