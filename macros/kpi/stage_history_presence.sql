{#
    One row saying what the export's stage history can answer, over int_opportunity_states: state_rows
    (any state, from the history or dated from the deals' own dates) and has_stage_history (at least one
    state read from opportunity_stage_history). A pipeline mart is empty without states, and its values
    (amounts, probabilities, stages at a period end) are null without the history.
#}
{% macro stage_history_presence(states) -%}
    select
        count(*) as state_rows,
        coalesce(max(case when is_from_stage_history then 1 else 0 end), 0) = 1 as has_stage_history
    from {{ states }}
{%- endmacro %}

{#
    A pipeline amount that only the stage history determines: the amount, or null without the history; typed
    money again (PostgreSQL's CASE without an ELSE drops the numeric's scale).
#}
{% macro known_with_stage_history(expr) -%}
    cast(case when source_presence.has_stage_history then {{ expr }} end as decimal(18, 2))
{%- endmacro %}
