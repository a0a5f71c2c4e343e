{#-
    One row per account that became a customer through a won opportunity: its first won opportunity
    (earliest close date, ties by opportunity id, won by the as-of date), the lead behind it and that
    lead's first-touch campaign (see the first_touch_attribution docs block).
-#}
with

opportunities as (
    select * from {{ ref('int_opportunities_classified') }}
),

attributed_leads as (
    select * from {{ ref('int_leads_attributed') }}
),

ranked_wins as (
    select
        account_id,
        opportunity_id,
        source_lead_id,
        close_date,
        close_month,
        row_number() over (
            partition by account_id
            order by close_date, opportunity_id
        ) as win_rank
    from opportunities
    where is_won_by_as_of
),

final as (
    select
        ranked_wins.account_id,
        ranked_wins.opportunity_id as first_won_opportunity_id,
        ranked_wins.close_date as first_won_on,
        ranked_wins.close_month as acquisition_month,
        ranked_wins.source_lead_id,
        attributed_leads.attributed_campaign_id,
        'first_touch' as attribution_rule
    from ranked_wins
    left join attributed_leads
        on ranked_wins.source_lead_id = attributed_leads.lead_id
    where ranked_wins.win_rank = 1
)

select * from final
