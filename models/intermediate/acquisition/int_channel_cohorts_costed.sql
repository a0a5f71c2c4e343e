{#-
    One row per acquisition channel and cohort month with spend or new customers: the first-touch
    acquisition cost behind C6's CAC (spend of the channel's campaigns in the month, new customers
    whose first-touch campaign is of the channel and who were won that month). No ratio here: CAC is
    computed in the mart from these sums.
-#}
with

customers as (
    select * from {{ ref('int_customers_segmented') }}
),

campaigns as (
    select
        campaign_id,
        channel
    from {{ ref('stg_crm__campaigns') }}
),

spend as (
    select * from {{ ref('stg_crm__campaign_spend') }}
),

as_of_dates as (
    select * from {{ ref('int_as_of_dates') }}
),

channel_spend as (
    select
        campaigns.channel as acquisition_channel,
        {{ crm_kpi.month_of('spend.spend_date') }} as cohort_month,
        sum(spend.amount) as spend
    from spend
    inner join campaigns
        on spend.campaign_id = campaigns.campaign_id
    cross join as_of_dates
    where spend.spend_date <= as_of_dates.as_of_date
    group by
        campaigns.channel,
        {{ crm_kpi.month_of('spend.spend_date') }}
),

channel_customers as (
    select
        acquisition_channel,
        acquisition_month as cohort_month,
        count(*) as new_customers
    from customers
    where is_won_customer
    group by
        acquisition_channel,
        acquisition_month
),

channel_months as (
    select
        acquisition_channel,
        cohort_month
    from channel_spend
    union
    select
        acquisition_channel,
        cohort_month
    from channel_customers
),

final as (
    select
        channel_months.acquisition_channel,
        channel_months.cohort_month,
        case
            when channel_months.acquisition_channel <> 'unattributed' then coalesce(channel_spend.spend, 0)
        end as spend,
        coalesce(channel_customers.new_customers, 0) as new_customers
    from channel_months
    left join channel_spend
        on
            channel_months.acquisition_channel = channel_spend.acquisition_channel
            and channel_months.cohort_month = channel_spend.cohort_month
    left join channel_customers
        on
            channel_months.acquisition_channel = channel_customers.acquisition_channel
            and channel_months.cohort_month = channel_customers.cohort_month
)

select * from final
