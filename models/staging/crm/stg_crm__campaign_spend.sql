with

valid_rows as (
    select * from {{ ref('base_crm__campaign_spend') }}
    where quarantine_reason is null
),

latest_rows as (
    {{ crm_kpi.dedupe_latest('valid_rows', ['campaign_id', 'spend_date']) }}
),

final as (
    select
        campaign_id,
        spend_date,
        amount,
        original_amount,
        original_currency,
        exchange_rate
    from latest_rows
)

select * from final
