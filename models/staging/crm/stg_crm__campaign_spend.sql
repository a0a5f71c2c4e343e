with

latest_rows as (
    {{ crm_kpi.dedupe_latest(ref('base_crm__campaign_spend'), ['campaign_id', 'spend_date'], where='quarantine_reason is null') }}
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
