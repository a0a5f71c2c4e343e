{#-
    Reconciliation: the sum of a mart column equals the same total computed from an upstream model.
    `filter` restricts the upstream rows. Money is rounded to the cent on each mart row, so the two
    totals may differ by half a cent per mart row at most (`tolerance`: per row, default 0.005).
-#}
{% test equals_staging_total(model, column_name, to, to_expression, filter='1 = 1', tolerance=0.005) %}
with

mart_total as (
    select
        coalesce(sum({{ column_name }}), 0) as total,
        count(*) as mart_rows
    from {{ model }}
),

upstream_total as (
    select coalesce(sum({{ to_expression }}), 0) as total from {{ to }} where {{ filter }}
)

select
    mart_total.total as mart_total,
    upstream_total.total as upstream_total
from mart_total
cross join upstream_total
where abs(mart_total.total - upstream_total.total) > {{ tolerance }} * mart_total.mart_rows + 1e-9
{% endtest %}
