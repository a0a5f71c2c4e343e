{#
    A 64-bit hash of a row's columns as a whole number (decimal), whose sum over a set of rows fingerprints
    the set whatever its order: a row removed, added or changed changes the sum (but for a hash collision).
    Nulls hash apart from any value.
#}
{% macro row_hash(columns) -%}
    {{ return(adapter.dispatch('row_hash', 'crm_kpi')(columns)) }}
{%- endmacro %}

{% macro default__row_hash(columns) -%}
    cast(hashtextextended(concat_ws(chr(31)
    {%- for column in columns -%}
        , coalesce(cast({{ column }} as text), chr(30))
    {%- endfor -%}
    ), 0) as numeric)
{%- endmacro %}

{% macro duckdb__row_hash(columns) -%}
    cast(hash({{ columns | join(', ') }}) as hugeint)
{%- endmacro %}

{% macro spark__row_hash(columns) -%}
    cast(xxhash64({{ columns | join(', ') }}) as decimal(38, 0))
{%- endmacro %}
