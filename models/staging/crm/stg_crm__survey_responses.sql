with

latest_rows as (
    {{ crm_kpi.dedupe_latest(ref('base_crm__survey_responses'), ['response_id'], where='quarantine_reason is null') }}
),

final as (
    select
        response_id,
        survey_type,
        account_id,
        {{ crm_kpi.live_reference('product_id', 'products') }} as product_id,
        responded_at,
        score
    from latest_rows
)

select * from final
