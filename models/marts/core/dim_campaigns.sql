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
        {{ crm_kpi.money('budget') }} as budget,
        true as is_campaign
    from campaigns
    union all
    -- The unknown member: the KPI marts' `unattributed` rows (what no campaign earns) relate to it.
    select
        'unattributed' as campaign_id,
        'Unattributed' as campaign_name,
        cast(null as {{ var('contract_types')[target.type]['string'] }}) as channel,
        cast(null as {{ var('contract_types')[target.type]['string'] }}) as region,
        cast(null as {{ var('contract_types')[target.type]['date'] }}) as started_on,
        cast(null as {{ var('contract_types')[target.type]['date'] }}) as ended_on,
        cast(null as {{ var('contract_types')[target.type]['money'] }}) as budget,
        false as is_campaign
)

select * from final
