{#-
    Money totals are the same at every grain: for each listed column, the sum over the rows of each period
    type (week, month, quarter, ...) is the same, per value of the `partition_by` columns (a breakdown and
    its id, an attribution rule, ...), to the cent: every amount is rounded to the cent once, on its own
    row, before any period sums it (`tolerance`, an absolute amount, default 0: exact). A partition with no
    row at one grain sums to 0 there. Only for columns that add up over time (flows such as bookings,
    revenue, refunds, created pipeline), never for snapshots (open pipeline, MRR at a period's end) or
    ratios.
-#}
{% test equal_totals_across_grains(model, columns, period_type_column='period_type', partition_by=[], tolerance=0) %}
with

totals as (
    select
        {% for column in partition_by %}{{ column }}, {% endfor %}
        {{ period_type_column }} as grain,
        {%- for column in columns %}
        coalesce(sum({{ column }}), 0) as total_{{ column }}{{ "," if not loop.last }}
        {%- endfor %}
    from {{ model }}
    group by {% for column in partition_by %}{{ column }}, {% endfor %}{{ period_type_column }}
),

grains as (
    select distinct grain from totals
),

partitions as (
    select distinct
        {%- if partition_by %}
        {% for column in partition_by %}{{ column }}{{ "," if not loop.last }}{% endfor %}
        {%- else %}
        1 as one_partition
        {%- endif %}
    from totals
),

every_grain as (
    select
        {% for column in partition_by %}partitions.{{ column }}, {% endfor %}
        grains.grain,
        {%- for column in columns %}
        coalesce(totals.total_{{ column }}, 0) as total_{{ column }}{{ "," if not loop.last }}
        {%- endfor %}
    from partitions
    cross join grains
    left join totals
        on
            grains.grain = totals.grain
            {%- for column in partition_by %}
            and (partitions.{{ column }} = totals.{{ column }} or (partitions.{{ column }} is null and totals.{{ column }} is null))
            {%- endfor %}
)

select
    {% for column in partition_by %}{{ column }}, {% endfor %}
    {%- for column in columns %}
    min(total_{{ column }}) as least_total_{{ column }},
    max(total_{{ column }}) as greatest_total_{{ column }}{{ "," if not loop.last }}
    {%- endfor %}
from every_grain
{% if partition_by %}group by {% for column in partition_by %}{{ column }}{{ ", " if not loop.last }}{% endfor %}{% endif %}
having
    {%- for column in columns %}
    max(total_{{ column }}) - min(total_{{ column }}) > {{ tolerance }}{{ " or" if not loop.last }}
    {%- endfor %}
{% endtest %}
