with

valid_rows as (
    select * from {{ ref('base_crm__subscriptions') }}
    where quarantine_reason is null
),

latest_rows as (
    {{ crm_kpi.dedupe_latest('valid_rows', ['subscription_id', 'period_start']) }}
),

final as (
    select
        subscription_id,
        account_id,
        product_id,
        period_start,
        period_end,
        mrr,
        original_mrr,
        original_currency,
        exchange_rate
    from latest_rows
)

select * from final
