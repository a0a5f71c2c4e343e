{#-
    Recomputation: each stored ratio equals its numerator / its denominator (relative tolerance 1e-9),
    and is null exactly when the denominator is 0 or null. The ratios are the ones the mart declares in
    its columns' meta (crm_kpi.declared_ratios): one query checks them all, and each failing row names
    its ratio column. A mart that declares no ratio fails to compile (the test would check nothing).
-#}
{% test columns_equal_ratios(model) %}
{%- set ratios = crm_kpi.declared_ratios(model.identifier) -%}
{%- if execute and not ratios -%}
    {%- do exceptions.raise_compiler_error("columns_equal_ratios on " ~ model.identifier ~ ": the model declares no ratio (meta aggregate: ratio)") -%}
{%- endif -%}
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
