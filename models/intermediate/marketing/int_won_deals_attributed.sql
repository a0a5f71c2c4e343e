{#-
    One row per won deal (won by the as-of date), attribution rule and campaign credited, with the
    share of the deal (credit) that the rule gives the campaign; campaign_id is null for the share
    that no campaign earns (unattributed). Under every rule the credits of a deal sum to 1, so a deal,
    and a new customer at its first won deal, is attributed at most once per rule (see the
    multi_touch_attribution docs block).

    first_touch is today's rule (int_leads_attributed: the source lead's source campaign, else its
    earliest touch; no window). The touch rules read the source lead's campaign touches
    (int_lead_campaign_touches: a lead without any has its source campaign as its one touch, at its
    creation) whose date is within the conversion window: from close_date minus
    var('attribution_window_days') to close_date, both included.
-#}
{%- set window_days = crm_kpi.checked_var('attribution_window_days') -%}
{%- set touch_rules = ['last_touch', 'linear', 'position_based'] -%}

with

won_opportunities as (
    select * from {{ ref('int_opportunities_classified') }}
    where is_won_by_as_of
),

acquired_accounts as (
    select * from {{ ref('int_accounts_acquired') }}
),

lead_touches as (
    select * from {{ ref('int_lead_campaign_touches') }}
),

won_deals as (
    select
        won_opportunities.opportunity_id,
        won_opportunities.account_id,
        won_opportunities.source_lead_id,
        won_opportunities.close_date,
        won_opportunities.close_month,
        won_opportunities.amount,
        acquired_accounts.account_id is not null as is_new_customer
    from won_opportunities
    left join acquired_accounts
        on won_opportunities.opportunity_id = acquired_accounts.first_won_opportunity_id
),

first_touch_leads as (
    select
        lead_id,
        max(first_touch_campaign_id) as attributed_campaign_id
    from lead_touches
    group by lead_id
),

-- The touches of the deal's source lead dated within the window before the close (after it: ignored).
window_touches as (
    select
        won_deals.opportunity_id,
        lead_touches.campaign_id,
        row_number() over (
            partition by won_deals.opportunity_id
            order by lead_touches.touched_at, lead_touches.touch_id
        ) as touch_position,
        count(*) over (partition by won_deals.opportunity_id) as touches_in_window
    from won_deals
    inner join lead_touches
        on won_deals.source_lead_id = lead_touches.lead_id
    where
        {{ dbt.datediff('cast(lead_touches.touched_at as date)', 'won_deals.close_date', 'day') }} >= 0
        and {{ dbt.datediff('cast(lead_touches.touched_at as date)', 'won_deals.close_date', 'day') }} <= {{ window_days }}
),

touch_credits as (
    select
        opportunity_id,
        campaign_id,
        'last_touch' as attribution_rule,
        cast(1 as {{ crm_kpi.type_double() }}) as credit
    from window_touches
    where touch_position = touches_in_window
    union all
    select
        opportunity_id,
        campaign_id,
        'linear' as attribution_rule,
        cast(1 as {{ crm_kpi.type_double() }}) / touches_in_window as credit
    from window_touches
    union all
    select
        opportunity_id,
        campaign_id,
        'position_based' as attribution_rule,
        case
            when touches_in_window = 1 then cast(1 as {{ crm_kpi.type_double() }})
            when touches_in_window = 2 then cast(0.5 as {{ crm_kpi.type_double() }})
            when touch_position = 1 or touch_position = touches_in_window then cast(0.4 as {{ crm_kpi.type_double() }})
            else cast(0.2 as {{ crm_kpi.type_double() }}) / (touches_in_window - 2)
        end as credit
    from window_touches
),

deal_windows as (
    select
        opportunity_id,
        max(touches_in_window) as touches_in_window
    from window_touches
    group by opportunity_id
),

touch_rules as (
    {%- for rule in touch_rules %}
    select '{{ rule }}' as attribution_rule
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
),

credits as (
    select
        opportunity_id,
        attribution_rule,
        campaign_id,
        sum(credit) as credit
    from touch_credits
    group by
        opportunity_id,
        attribution_rule,
        campaign_id
    union all
    -- A deal without a touch in its window: the whole deal is unattributed under the touch rules.
    select
        won_deals.opportunity_id,
        touch_rules.attribution_rule,
        cast(null as {{ dbt.type_string() }}) as campaign_id,
        cast(1 as {{ crm_kpi.type_double() }}) as credit
    from won_deals
    cross join touch_rules
    left join deal_windows
        on won_deals.opportunity_id = deal_windows.opportunity_id
    where deal_windows.opportunity_id is null
    union all
    select
        won_deals.opportunity_id,
        'first_touch' as attribution_rule,
        first_touch_leads.attributed_campaign_id as campaign_id,
        cast(1 as {{ crm_kpi.type_double() }}) as credit
    from won_deals
    left join first_touch_leads
        on won_deals.source_lead_id = first_touch_leads.lead_id
),

final as (
    select
        won_deals.opportunity_id,
        credits.attribution_rule,
        credits.campaign_id,
        won_deals.account_id,
        won_deals.source_lead_id,
        won_deals.close_date,
        won_deals.close_month,
        won_deals.amount,
        won_deals.is_new_customer,
        coalesce(deal_windows.touches_in_window, 0) as touches_in_window,
        credits.credit
    from credits
    inner join won_deals
        on credits.opportunity_id = won_deals.opportunity_id
    left join deal_windows
        on credits.opportunity_id = deal_windows.opportunity_id
)

select * from final
