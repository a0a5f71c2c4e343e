{%- set movements = [
    ('created', 'states.state_number = 1 and states.is_open', 'states.amount'),
    ('won', 'states.was_open and states.is_won', 'states.previous_amount'),
    ('lost', 'states.was_open and states.is_lost', 'states.previous_amount'),
    ('reopened', 'not states.was_open and states.is_open', 'states.amount'),
] -%}

with

states as (
    select * from {{ ref('int_opportunity_states') }}
),

periods as (
    select * from {{ ref('int_periods_spined') }}
),

{# The open pipeline is read at the end of the day before the period starts and at its snapshot date. -#}
boundaries as (
    select
        period_type,
        period_start,
        'start' as boundary,
        cast({{ dbt.dateadd('day', -1, 'period_start') }} as date) as boundary_date
    from periods
    union all
    select
        period_type,
        period_start,
        'end' as boundary,
        snapshot_date as boundary_date
    from periods
),

open_at_boundaries as (
    select
        boundaries.period_type,
        boundaries.period_start,
        sum(case when boundaries.boundary = 'start' then 1 else 0 end) as open_deals_at_start,
        sum(case when boundaries.boundary = 'start' then states.amount else 0 end) as open_value_at_start,
        sum(case when boundaries.boundary = 'end' then 1 else 0 end) as open_deals_at_end,
        sum(case when boundaries.boundary = 'end' then states.amount else 0 end) as open_value_at_end
    from boundaries
    inner join states
        on
            boundaries.boundary_date >= states.valid_from_on
            and (boundaries.boundary_date < states.valid_to_on or states.valid_to_on is null)
    where states.is_open
    group by
        boundaries.period_type,
        boundaries.period_start
),

{# Every change of state in the period moves the open pipeline by one movement (or none). -#}
movements as (
    select
        periods.period_type,
        periods.period_start,
        {%- for name, condition, value in movements %}
        sum(case when {{ condition }} then 1 else 0 end) as {{ name }}_deals,
        sum(case when {{ condition }} then {{ value }} else 0 end) as {{ name }}_value,
        {%- endfor %}
        sum(
            case
                when states.was_open and states.is_open and states.amount > states.previous_amount
                    then states.amount - states.previous_amount
                else 0
            end
        ) as amount_increases,
        sum(
            case
                when states.was_open and states.is_open and states.amount < states.previous_amount
                    then states.previous_amount - states.amount
                else 0
            end
        ) as amount_decreases
    from periods
    inner join states
        on
            periods.period_start <= states.valid_from_on
            and periods.period_end >= states.valid_from_on
    group by
        periods.period_type,
        periods.period_start
),

{# No stage history in the export: no waterfall (an empty mart, not zeros). -#}
source_presence as (
    {{ crm_kpi.stage_history_presence('states') }}
),

final as (
    select
        periods.period_type,
        periods.period_start,
        periods.period_end,
        cast(coalesce(open_at_boundaries.open_deals_at_start, 0) as {{ dbt.type_bigint() }}) as open_deals_at_start,
        {{ crm_kpi.money('coalesce(open_at_boundaries.open_value_at_start, 0)') }} as open_value_at_start,
        cast(coalesce(movements.created_deals, 0) as {{ dbt.type_bigint() }}) as created_deals,
        {{ crm_kpi.money('coalesce(movements.created_value, 0)') }} as created_value,
        {{ crm_kpi.money('coalesce(movements.amount_increases, 0)') }} as amount_increases,
        {{ crm_kpi.money('coalesce(movements.amount_decreases, 0)') }} as amount_decreases,
        cast(coalesce(movements.won_deals, 0) as {{ dbt.type_bigint() }}) as won_deals,
        {{ crm_kpi.money('coalesce(movements.won_value, 0)') }} as won_value,
        cast(coalesce(movements.lost_deals, 0) as {{ dbt.type_bigint() }}) as lost_deals,
        {{ crm_kpi.money('coalesce(movements.lost_value, 0)') }} as lost_value,
        cast(coalesce(movements.reopened_deals, 0) as {{ dbt.type_bigint() }}) as reopened_deals,
        {{ crm_kpi.money('coalesce(movements.reopened_value, 0)') }} as reopened_value,
        cast(coalesce(open_at_boundaries.open_deals_at_end, 0) as {{ dbt.type_bigint() }}) as open_deals_at_end,
        {{ crm_kpi.money('coalesce(open_at_boundaries.open_value_at_end, 0)') }} as open_value_at_end
    from periods
    left join open_at_boundaries
        on
            periods.period_type = open_at_boundaries.period_type
            and periods.period_start = open_at_boundaries.period_start
    left join movements
        on
            periods.period_type = movements.period_type
            and periods.period_start = movements.period_start
    cross join source_presence
    where source_presence.has_stage_history
)

select * from final
