{#- The natural floor of an unbounded ratio (ROI >= -1: at worst the spend is lost; growth >= -1). -#}
{% test at_least(model, column_name, min_value) %}
select {{ column_name }}
from {{ model }}
where {{ column_name }} < {{ min_value }}
{% endtest %}
