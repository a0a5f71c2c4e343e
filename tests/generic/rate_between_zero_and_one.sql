{#- A rate is a fraction in [0, 1] (or null when its denominator is 0). -#}
{% test rate_between_zero_and_one(model, column_name) %}
select {{ column_name }}
from {{ model }}
where {{ column_name }} < 0 or {{ column_name }} > 1
{% endtest %}
