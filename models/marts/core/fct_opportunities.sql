with

opportunities as (
    select * from {{ ref('int_opportunities_classified') }}
),

final as (
    select
        opportunity_id,
        account_id,
        owner_user_id,
        source_lead_id,
        opportunity_type,
        created_at,
        close_date,
        close_month,
        stage,
        stage_sort_order,
        stage_probability,
        is_closed,
        is_won,
        is_closed_by_as_of,
        is_won_by_as_of,
        is_lost_by_as_of,
        {{ crm_kpi.money('amount') }} as amount,
        original_amount,
        original_currency,
        lost_reason,
        competitor_id
    from opportunities
)

select * from final
