with

spend as (
    select * from {{ ref('stg_crm__campaign_spend') }}
),

campaigns as (
    select campaign_id from {{ ref('stg_crm__campaigns') }}
),

as_of_dates as (
    select * from {{ ref('int_as_of_dates') }}
),

final as (
    select
        spend.campaign_id,
        spend.spend_date,
        {{ crm_kpi.money('spend.amount') }} as amount,
        spend.original_amount,
        spend.original_currency
    from spend
    inner join campaigns
        on spend.campaign_id = campaigns.campaign_id
    cross join as_of_dates
    where spend.spend_date <= as_of_dates.as_of_date
)

select * from final
