{#- Funnel invariant: each count is no larger than the one before it in the list. -#}
{% test counts_never_increase(model, columns) %}
select *
from {{ model }}
where
{%- for column in columns[1:] %}
    {{ column }} > {{ columns[loop.index0] }}{{ " or" if not loop.last }}
{%- endfor %}
{% endtest %}
