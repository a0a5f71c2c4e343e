{#-
    Recomputation: the stored rate equals numerator / denominator (relative tolerance 1e-9), and is
    null exactly when the denominator is 0 or null.
-#}
{% test column_equals_ratio(model, column, numerator, denominator) %}
with

recomputed as (
    select
        {{ column }} as stored_value,
        {{ crm_kpi.safe_divide(numerator, denominator) }} as expected_value
    from {{ model }}
)

select *
from recomputed
where (stored_value is null and expected_value is not null)
    or (stored_value is not null and expected_value is null)
    or abs(stored_value - expected_value) > 1e-9 * (1 + abs(expected_value))
{% endtest %}
