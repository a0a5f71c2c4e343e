with

subscription_months as (
    select * from {{ ref('int_subscription_months') }}
),

final as (
    select
        account_id,
        month_start,
        snapshot_date,
        cohort_month,
        months_since_start,
        {{ crm_kpi.money('mrr') }} as mrr,
        is_active
    from subscription_months
)

select * from final
