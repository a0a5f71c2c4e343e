{#
    The rollup of a KPI mart's facts to its breakdowns, written once (the oracle's
    aggregate_breakdowns): one select per breakdown, unioned, each grouping the facts by period and
    the breakdown's key, named breakdown and breakdown_id. A key of 'all' (the company) groups by
    period only. The measures (name -> aggregate) are the select list, the same for every breakdown; a
    breakdown may keep only some facts (where_by_breakdown: breakdown -> SQL condition).
#}
{% macro rollup_to_breakdowns(facts, breakdowns, measures, where_by_breakdown={}) -%}
    {%- for breakdown, key in breakdowns.items() %}
    select
        period_type,
        period_start,
        '{{ breakdown }}' as breakdown,
        {{ key }} as breakdown_id,
        {%- for name, aggregate in measures.items() %}
        {{ aggregate }} as {{ name }}{{ ',' if not loop.last }}
        {%- endfor %}
    from {{ facts }}
    {%- if breakdown in where_by_breakdown %}
    where {{ where_by_breakdown[breakdown] }}
    {%- endif %}
    group by
        period_type,
        period_start{% if key != "'all'" %},
        {{ key }}{% endif %}
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
{%- endmacro %}
