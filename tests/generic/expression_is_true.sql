{#- An invariant of the definition, written as a boolean expression over a row. -#}
{% test expression_is_true(model, expression) %}
select *
from {{ model }}
where not ({{ expression }})
{% endtest %}
