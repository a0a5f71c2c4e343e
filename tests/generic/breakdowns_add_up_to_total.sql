{#-
    Rollup: in each period, the rows of each listed breakdown (rep, team, manager, stage, ...) add up to
    the total row (breakdown = 'company'), column by column. Money is rounded to the cent on each row, so
    a sum may differ from the total by half a cent per row summed (`tolerance` per row, default 0: exact).
    A breakdown with no row in a period sums to 0. A breakdown listed in `optional_breakdowns` (one the
    export may be unable to answer, such as the stage at a period end without stage history) is checked
    only when the mart has some row of it; a listed breakdown is always checked.
-#}
{% test breakdowns_add_up_to_total(model, period_columns, columns, breakdowns, tolerance=0, optional_breakdowns=[]) %}
with

totals as (
    select
        {% for period_column in period_columns %}{{ period_column }}, {% endfor %}
        {%- for column in columns %}
        {{ column }} as total_{{ column }}{{ "," if not loop.last }}
        {%- endfor %}
    from {{ model }}
    where breakdown = 'company'
),

breakdown_names as (
    {%- for breakdown in breakdowns %}
    select '{{ breakdown }}' as breakdown
    {%- if breakdown in optional_breakdowns %}
    where exists (select 1 from {{ model }} where breakdown = '{{ breakdown }}')
    {%- endif %}{{ " union all" if not loop.last }}
    {%- endfor %}
),

sums as (
    select
        {% for period_column in period_columns %}{{ period_column }}, {% endfor %}
        breakdown,
        count(*) as summed_rows,
        {%- for column in columns %}
        sum({{ column }}) as sum_{{ column }}{{ "," if not loop.last }}
        {%- endfor %}
    from {{ model }}
    where breakdown in ({% for breakdown in breakdowns %}'{{ breakdown }}'{{ ", " if not loop.last }}{% endfor %})
    group by {% for period_column in period_columns %}{{ period_column }}, {% endfor %}breakdown
)

select
    totals.*,
    breakdown_names.breakdown
from totals
cross join breakdown_names
left join sums
    on
        {% for period_column in period_columns %}totals.{{ period_column }} = sums.{{ period_column }} and {% endfor %}breakdown_names.breakdown = sums.breakdown
where
    {%- for column in columns %}
    abs(coalesce(sums.sum_{{ column }}, 0) - coalesce(totals.total_{{ column }}, 0))
    > {{ tolerance }} * (coalesce(sums.summed_rows, 0) + 1) + 1e-9{{ " or" if not loop.last }}
    {%- endfor %}
{% endtest %}
