{#-
    The ratios a KPI mart declares in its columns' meta (`aggregate: ratio`), as SQL over one row of the
    mart: a list of {column, numerator, denominator}. The declaration is structured, so nothing parses
    SQL: `numerator` and `denominator` are lists of terms (a column, `-column`, or `column * column`)
    that add up; `scale` multiplies the numerator; `rows: {column: value}` defines the ratio only on the
    rows holding that value (null elsewhere); `positive_denominator: true` leaves the ratio null unless
    the denominator is above 0. Power BI's measures and the test suite's SQL rendering
    (src/crm_kpi/measures.py) read the same declaration.
-#}
{% macro declared_ratios(model_name) %}
    {%- set found = [] -%}
    {%- if execute -%}
        {%- set nodes = graph.nodes.values() | selectattr('resource_type', 'equalto', 'model') | selectattr('name', 'equalto', model_name) | list -%}
        {%- if nodes | length != 1 -%}
            {%- do exceptions.raise_compiler_error("declared_ratios: no model named " ~ model_name) -%}
        {%- endif -%}
        {%- for column in nodes[0].columns.values() -%}
            {%- set meta = column.meta or column.config.meta or {} -%}
            {%- if meta.get('aggregate') == 'ratio' -%}
                {%- set numerator = crm_kpi.declared_terms(meta['numerator']) -%}
                {%- if meta.get('scale') -%}
                    {%- set numerator = meta['scale'] ~ ' * ' ~ numerator -%}
                {%- endif -%}
                {%- set rows = namespace(denominator=crm_kpi.declared_terms(meta['denominator'])) -%}
                {%- for key, value in (meta.get('rows') or {}).items() -%}
                    {%- set rows.denominator = "case when " ~ key ~ " = '" ~ value ~ "' then " ~ rows.denominator ~ " end" -%}
                {%- endfor -%}
                {%- set denominator = rows.denominator -%}
                {%- if meta.get('positive_denominator') -%}
                    {%- set denominator = 'case when ' ~ denominator ~ ' > 0 then ' ~ denominator ~ ' end' -%}
                {%- endif -%}
                {%- do found.append({'column': column.name, 'numerator': numerator, 'denominator': denominator}) -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
    {{ return(found) }}
{% endmacro %}

{#- Terms that add up (`a`, `-b`, `a * b`) as one parenthesised SQL sum. -#}
{% macro declared_terms(terms) %}
    {%- set parts = [] -%}
    {%- for term in terms -%}
        {%- if loop.first -%}
            {%- do parts.append(term) -%}
        {%- elif term.startswith('-') -%}
            {%- do parts.append('- ' ~ term[1:]) -%}
        {%- else -%}
            {%- do parts.append('+ ' ~ term) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return('(' ~ parts | join(' ') ~ ')') }}
{% endmacro %}
