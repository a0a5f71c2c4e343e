with

latest_rows as (
    {{ crm_kpi.dedupe_latest(ref('base_crm__employee_survey_responses'), ['response_id'], where='quarantine_reason is null') }}
),

final as (
    select
        response_id,
        user_id,
        responded_at,
        score
    from latest_rows
)

select * from final
