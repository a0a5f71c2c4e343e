{#-
    Recomputation: each stored ratio equals its numerator / its denominator (relative tolerance 1e-9),
    and is null exactly when the denominator is 0 or null. `ratios`: a list of {column, numerator,
    denominator} (SQL expressions over the model's row); one query checks them all, and each failing
    row names its ratio column.
-#}
{% test columns_equal_ratios(model, ratios) %}
with

recomputed as (
    {%- for ratio in ratios %}
    select
        '{{ ratio.column }}' as ratio_column,
        cast({{ ratio.column }} as {{ var('contract_types')[target.type]['double'] }}) as stored_value,
        cast({{ crm_kpi.safe_divide(ratio.numerator, ratio.denominator) }} as {{ var('contract_types')[target.type]['double'] }}) as expected_value
    from {{ model }}
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
)

select *
from recomputed
where (stored_value is null and expected_value is not null)
    or (stored_value is not null and expected_value is null)
    or abs(stored_value - expected_value) > 1e-9 * (1 + abs(expected_value))
{% endtest %}
