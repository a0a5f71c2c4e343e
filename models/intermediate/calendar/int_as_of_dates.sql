{#- One row: the as-of date (the var, else the last date in the data) and the first data date. -#}
with

leads as (
    select created_at from {{ ref('stg_crm__leads') }}
),

opportunities as (
    select created_at from {{ ref('stg_crm__opportunities') }}
),

campaign_spend as (
    select spend_date from {{ ref('stg_crm__campaign_spend') }}
),

subscriptions as (
    select period_start from {{ ref('stg_crm__subscriptions') }}
),

event_dates as (
    select cast(created_at as date) as event_date from leads
    union all
    select cast(created_at as date) as event_date from opportunities
    union all
    select spend_date as event_date from campaign_spend
),

bounds as (
    select
        least(
            min(event_date),
            (select min(subscriptions.period_start) from subscriptions)
        ) as first_data_date,
        max(event_date) as last_data_date
    from event_dates
),

final as (
    select
        {%- if crm_kpi.checked_var('as_of_date') %}
        cast('{{ crm_kpi.checked_var("as_of_date") }}' as date) as as_of_date,
        {%- else %}
        last_data_date as as_of_date,
        {%- endif %}
        first_data_date,
        last_data_date
    from bounds
)

select
    as_of_date,
    {{ crm_kpi.month_of('as_of_date') }} as as_of_month,
    first_data_date,
    {{ crm_kpi.month_of('first_data_date') }} as first_data_month,
    last_data_date
from final
