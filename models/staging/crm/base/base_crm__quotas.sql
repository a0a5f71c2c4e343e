{{ crm_kpi.typed_raw_rows(
    'quotas',
    money=[{'amount': ['amount'], 'currency': 'currency', 'on': 'typed.month_start'}],
    checks=[{'column': 'user_id', 'condition': 'converted.user_id is null and converted.team_id is null', 'reason': 'a quota needs a user_id or a team_id'}]
) }}
