{#-
    Reconciliation: the sum of a mart column equals the same total computed from an upstream model
    (to the cent for money). `filter` restricts the upstream rows.
-#}
{% test equals_staging_total(model, column_name, to, to_expression, filter='1 = 1', tolerance=0.01) %}
with

mart_total as (
    select coalesce(sum({{ column_name }}), 0) as total from {{ model }}
),

upstream_total as (
    select coalesce(sum({{ to_expression }}), 0) as total from {{ to }} where {{ filter }}
)

select
    mart_total.total as mart_total,
    upstream_total.total as upstream_total
from mart_total
cross join upstream_total
where abs(mart_total.total - upstream_total.total) > {{ tolerance }}
{% endtest %}
