{#-
    Referential integrity towards a table built from an optional raw table (accounts, teams): every
    non-null value exists in the parent, checked whenever the parent has rows. When the export has
    no such table the parent is empty and there is nothing to check against (the contract allows it).
-#}
{% test relationships_when_present(model, column_name, to, field) %}
select child.{{ column_name }}
from {{ model }} as child
where child.{{ column_name }} is not null
    and exists (select 1 from {{ to }})
    and not exists (
        select 1 from {{ to }} as parent
        where parent.{{ field }} = child.{{ column_name }}
    )
{% endtest %}
