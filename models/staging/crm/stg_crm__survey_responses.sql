with

valid_rows as (
    select * from {{ ref('base_crm__survey_responses') }}
    where quarantine_reason is null
),

latest_rows as (
    {{ crm_kpi.dedupe_latest('valid_rows', ['response_id']) }}
),

final as (
    select
        response_id,
        survey_type,
        account_id,
        product_id,
        responded_at,
        score
    from latest_rows
)

select * from final
