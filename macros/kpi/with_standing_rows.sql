{#
    A KPI mart's rows, written once (the oracle's with_spine): the measured rows and the standing
    rows a leaderboard needs at zero (their keys unioned; only the mart's breakdowns), each with its
    period's last day and snapshot date and its breakdown's display name; the measured columns are
    null on a standing row that measured nothing (the mart's final select coalesces them).
#}
{% macro with_standing_rows(measured, standing, names, columns, breakdowns=none, periods='periods') -%}
    select
        spine.period_type,
        spine.period_start,
        {{ periods }}.period_end,
        {{ periods }}.snapshot_date,
        spine.breakdown,
        spine.breakdown_id,
        {{ names }}.breakdown_name,
        {%- for column in columns %}
        {{ measured }}.{{ column }}{{ ',' if not loop.last }}
        {%- endfor %}
    from (
        select
            period_type,
            period_start,
            breakdown,
            breakdown_id
        from {{ standing }}
        {%- if breakdowns is not none %}
        where breakdown in ('{{ breakdowns | join("', '") }}')
        {%- endif %}
        union
        select
            period_type,
            period_start,
            breakdown,
            breakdown_id
        from {{ measured }}
    ) as spine
    inner join {{ periods }}
        on
            spine.period_type = {{ periods }}.period_type
            and spine.period_start = {{ periods }}.period_start
    left join {{ measured }}
        on
            spine.period_type = {{ measured }}.period_type
            and spine.period_start = {{ measured }}.period_start
            and spine.breakdown = {{ measured }}.breakdown
            and spine.breakdown_id = {{ measured }}.breakdown_id
    left join {{ names }}
        on
            spine.breakdown = {{ names }}.breakdown
            and spine.breakdown_id = {{ names }}.breakdown_id
{%- endmacro %}
