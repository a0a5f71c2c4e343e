with

campaigns as (
    select * from {{ ref('stg_crm__campaigns') }}
),

final as (
    select
        campaign_id,
        campaign_name,
        channel,
        region,
        started_on,
        ended_on,
        {{ crm_kpi.money('budget') }} as budget
    from campaigns
)

select * from final
