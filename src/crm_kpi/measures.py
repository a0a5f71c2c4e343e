"""A KPI measure, from its declaration (crm_kpi.manifest: the column's `aggregate`, its ratio's terms, the
mart's `grain`), rendered twice: as the DAX of the Power BI measure and as SQL that evaluates the same measure
in a filter context. Power BI cannot run here, so the SQL twin is what the test suite evaluates against the
marts for every KPI, grain and context; both renderings are built from one `Plan`, construct by construct:

| the measure's rule | DAX | SQL twin (a `Context`) |
|---|---|---|
| the date table filters the mart's date column | relationship to dim_dates | `date between lo and hi` |
| an unchosen selector takes its default | `IF(ISFILTERED(t[s]), SELECTEDVALUE(t[s]), "d")` | `s = chosen or default` |
| a selector without default, or two values chosen | BLANK | None |
| a member dimension's rows (rep <- dim_reps) | `TREATAS(VALUES(dim[key]), t[breakdown_id])` | `breakdown_id in keys` |
| sum | `SUM` over the default period type | `sum` over the rows |
| opening / closing (a snapshot) | the first / last period in context | the same |
| period, stored, a ratio of them | the row of the context's period | `period_start = lo and period_end = hi` |
| stored | the value where one row is left | the value where one row is left |
| ratio | `DIVIDE(scale * sum(num terms), sum(den terms))` | the same sums, null when 0 |

A period-typed mart's `sum` reads the default period type's rows (months), which tile any year, quarter or
month; `period` and `stored` values read only a period's own row, so they are blank for a year or a blank page
(a year of distinct counts is not the sum of its months) unless the mart holds that period.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

from crm_kpi.manifest import Grain, Mart, MartColumn, Ratio, term_columns

DATE_TABLE = "dim_dates"
DATE_KEY = "date_day"
# How each aggregation behaves over time: summed over periods, first/last period, or the period's own row.
_TIME = {"sum": "sum", "opening": "opening", "closing": "closing", "period": "exact", "stored": "exact"}


@dataclass(frozen=True)
class Context:
    """A filter context as a report page holds it: the dates selected in the date table (None: a blank page,
    every date of the calendar), the grain values the reader chose (period_type, breakdown, attribution_rule),
    other columns of the mart filtered, and the keys selected in member dimensions (`dim_reps`: user ids)."""

    dates: tuple[date, date] | None = None
    chosen: Mapping[str, str] = field(default_factory=dict)
    filters: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    members: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    several: frozenset[str] = frozenset()  # grain columns with more than one value chosen (SELECTEDVALUE: blank)


@dataclass(frozen=True)
class Plan:
    """One measure: the mart, the column, how it aggregates and how it behaves over time."""

    mart: Mart
    column: MartColumn
    aggregate: str
    time: str  # sum | opening | closing | exact

    @property
    def grain(self) -> Grain:
        return self.mart.reading

    @property
    def ratio(self) -> Ratio | None:
        """The ratio the measure recomputes (None for a ratio readers get as a stored value)."""
        return self.column.ratio if self.aggregate == "ratio" else None


def plan(mart: Mart, column: MartColumn) -> Plan | None:
    """The measure of a KPI column (None for a column without `aggregate`)."""
    if column.aggregate is None:
        return None
    if column.ratio is None:
        return Plan(mart, column, column.aggregate, _TIME[column.aggregate])
    kinds: set[str] = set()
    for term in (*column.ratio.numerator, *column.ratio.denominator):
        read = [mart.column(name) for name in term_columns(term)]
        aggregates = [found.aggregate if found is not None else None for found in read]
        additive = [kind for kind in aggregates if kind in _TIME and kind != "stored"]
        if not additive:
            # A ratio of ratios or stored values (CLV:CAC, gross CLV over a churn rate): its row is tested, but
            # no sum re-aggregates it, so readers get the stored value of one row.
            return Plan(mart, column, "stored", "exact")
        # `units * average price` adds up over members; over time only a period's own row holds its average.
        kinds |= {_TIME[str(kind)] for kind in additive} | ({"exact"} if len(additive) < len(aggregates) else set())
    return Plan(mart, column, "ratio", "sum" if kinds == {"sum"} else "exact")


def _selectors(plan: Plan) -> dict[str, str | None]:
    """The mart's selectors the measure reads as the reader chooses them: a ratio defined on the rows of one
    value (NPS on the nps rows) holds that selector itself."""
    held = plan.ratio.rows if plan.ratio is not None else {}
    return {name: default for name, default in plan.grain.selectors.items() if name not in held}


def period_types_pinned(plan: Plan) -> bool:
    """A period-typed mart's sums and snapshots read the default period type; exact values any type."""
    return plan.grain.period_type is not None and plan.time != "exact"


def ratio_value(ratio: Ratio, total: Callable[[str], float | None]) -> float | None:
    """A declared ratio from the sum of each of its terms over some rows (`total(term)`, None for a term with
    no value), as the measure computes it: blank terms count 0 unless all are blank; None when the numerator
    is blank or the denominator 0 (or not above 0 with `positive_denominator`). For readers outside SQL."""

    def terms(declared: Sequence[str]) -> float | None:
        sums = [total(term) for term in declared]
        signed = zip(declared, sums, strict=True)
        present = [(-value if term.startswith("-") else value) for term, value in signed if value is not None]
        return sum(present) if present else None

    numerator, denominator = terms(ratio.numerator), terms(ratio.denominator)
    if numerator is None or denominator is None or denominator == 0:
        return None
    if ratio.positive_denominator and denominator <= 0:
        return None
    return ratio.scale * numerator / denominator


# --- SQL twin ---------------------------------------------------------------------------------------------


def _sql_literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _sql_terms(terms: Sequence[str]) -> str:
    """The terms' sums as DAX adds them: SUM of no value is BLANK, BLANK in arithmetic is 0, and the whole
    sum is BLANK only when every term is."""
    sums = [f"sum({' * '.join(term_columns(term))})" for term in terms]
    parts = []
    for index, (term, total) in enumerate(zip(terms, sums, strict=True)):
        sign = "-" if term.startswith("-") else "+"
        parts.append(f"coalesce({total}, 0)" if index == 0 and sign == "+" else f"{sign} coalesce({total}, 0)")
    return f"(case when coalesce({', '.join(sums)}) is not null then {' '.join(parts)} end)"


def _period_end_sql(grain: Grain) -> str:
    if grain.period_end:
        return grain.period_end
    months = 3 if grain.period_length == "quarter" else 1
    return f"cast({grain.date} + interval '{months} month' - interval '1 day' as date)"


def sql(plan: Plan, context: Context, relation: str, calendar: tuple[date, date]) -> str | None:
    """A query returning the measure's one value in `context` (None where the DAX measure is BLANK by its
    guards alone: a selector without default not chosen, two values of one selector). `calendar` is the date
    table's first and last day (a blank page's dates). DuckDB SQL."""
    grain, where = plan.grain, []
    pinned = {*_selectors(plan), *([str(grain.period_type)] if period_types_pinned(plan) else [])}
    if context.several & pinned:
        return None
    lo, hi = context.dates or calendar
    if grain.date and context.dates:
        where.append(f"{grain.date} between date '{lo}' and date '{hi}'")
    for name, values in context.filters.items():
        where.append(f"{name} in ({', '.join(_sql_literal(value) for value in values)})")
    members = grain.members
    chosen_member = None
    if members is not None:
        chosen_member = next((by for by, dim in members.dimensions.items() if dim in context.members), None)
    for name, default in _selectors(plan).items():
        value: str | None = context.chosen.get(name)
        if value is None and members is not None and name == members.by and chosen_member is not None:
            value = chosen_member
        value = value if value is not None else default
        if value is None:
            return None
        where.append(f"{name} = {_sql_literal(value)}")
    if members is not None:
        by_value = context.chosen.get(members.by) or chosen_member
        member_dimension = members.dimensions.get(by_value or "")
        if member_dimension is not None and member_dimension in context.members:
            keys = ", ".join(_sql_literal(key) for key in context.members[member_dimension])
            where.append(f"{members.column} in ({keys})")
    if grain.period_type:
        chosen = context.chosen.get(grain.period_type)
        if period_types_pinned(plan):
            where.append(f"{grain.period_type} = {_sql_literal(chosen or str(grain.period_default))}")
        elif chosen:
            where.append(f"{grain.period_type} = {_sql_literal(chosen)}")
    if grain.date and context.dates:
        where.append(f"{_period_end_sql(grain)} <= date '{hi}'")  # a row counts when its whole period is inside
    if plan.time == "exact" and grain.date:
        where.append(f"{grain.date} = date '{lo}' and {_period_end_sql(grain)} = date '{hi}'")
    ratio = plan.ratio
    if ratio is not None:
        # A ratio on one value's rows keeps the reader's choice of that column too (NPS of the csat rows: none).
        where += [f"{name} = {_sql_literal(value)}" for name, value in ratio.rows.items()]
        where += [f"{name} = {_sql_literal(context.chosen[name])}" for name in ratio.rows if name in context.chosen]
    rows = f"select * from {relation}" + (" where " + " and ".join(where) if where else "")
    if plan.time in {"opening", "closing"} and grain.date:
        pick = "min" if plan.time == "opening" else "max"
        rows = (
            f"select * from ({rows}) as kept where {grain.date} = (select {pick}({grain.date}) from ({rows}) as dates)"
        )
    if ratio is not None:
        numerator = f"{ratio.scale:g} * {_sql_terms(ratio.numerator)}"
        denominator = _sql_terms(ratio.denominator)
        guard = f"{denominator} > 0" if ratio.positive_denominator else f"{denominator} <> 0"
        value = f"case when {guard} then cast({numerator} as double) / {denominator} end"
    elif plan.aggregate == "stored":
        value = f"case when count(*) = 1 then min({plan.column.name}) end"
    else:
        value = f"sum({plan.column.name})"
    return f"select {value} as value from ({rows}) as measure_rows"


# --- DAX --------------------------------------------------------------------------------------------------


def _dax_column(table: str, column: str) -> str:
    return f"'{table}'[{column}]"


def _dax_text(value: str) -> str:
    return '"' + value.replace('"', '""') + '"'


def _dax_terms(table: str, terms: Sequence[str]) -> str:
    parts = []
    for index, term in enumerate(terms):
        names = term_columns(term)
        if len(names) == 1:
            body = f"SUM({_dax_column(table, names[0])})"
        else:
            body = f"SUMX('{table}', {' * '.join(_dax_column(table, name) for name in names)})"
        sign = "-" if term.startswith("-") else "+"
        parts.append(body if index == 0 and sign == "+" else f"{sign} {body}")
    return " ".join(parts)


def _variable(name: str) -> str:
    return "__" + name


def dax(plan: Plan, dimension_keys: Mapping[str, str]) -> str:
    """The DAX of the measure. `dimension_keys`: each member dimension's key column (dim_reps -> user_id)."""
    table, grain, column = plan.mart.name, plan.grain, plan.column.name
    lines: list[str] = []
    guards: list[str] = []
    filters: list[str] = []
    members = grain.members
    for name, default in _selectors(plan).items():
        choice = f"SELECTEDVALUE({_dax_column(table, name)})"
        fallback = _dax_text(default) if default is not None else "BLANK()"
        if members is not None and name == members.by:
            # A member dimension filtered (a rep chosen) reads its rows: the first dimension listed wins.
            for value, dimension in reversed(list(members.dimensions.items())):
                fallback = f"IF(ISFILTERED('{dimension}'), {_dax_text(value)}, {fallback})"
        lines.append(f"VAR {_variable(name)} = IF(ISFILTERED({_dax_column(table, name)}), {choice}, {fallback})")
        guards.append(f"NOT(ISBLANK({_variable(name)}))")
        filters.append(f"{_dax_column(table, name)} = {_variable(name)}")
    if grain.period_type and period_types_pinned(plan):
        choice = f"SELECTEDVALUE({_dax_column(table, grain.period_type)})"
        default = _dax_text(str(grain.period_default))
        lines.append(f"VAR __period = IF(ISFILTERED({_dax_column(table, grain.period_type)}), {choice}, {default})")
        guards.append("NOT(ISBLANK(__period))")
        filters.append(f"{_dax_column(table, grain.period_type)} = __period")
    if grain.date:
        # A row counts when its whole period is inside the context's dates (a quarter row is not a month's).
        lines.append(f"VAR __last = MAX('{DATE_TABLE}'[{DATE_KEY}])")
        if grain.period_end:
            filters.append(f"{_dax_column(table, grain.period_end)} <= __last")
        else:
            months = 2 if grain.period_length == "quarter" else 0
            date_column = _dax_column(table, grain.date)
            filters.append(f"FILTER(VALUES({date_column}), EOMONTH({date_column}, {months}) <= __last)")
    if plan.time == "exact" and grain.date:
        lines.append(f"VAR __first = MIN('{DATE_TABLE}'[{DATE_KEY}])")
        filters.append(f"{_dax_column(table, grain.date)} = __first")
        if grain.period_end:
            filters.append(f"{_dax_column(table, grain.period_end)} = __last")
        else:
            guards.append(f"EOMONTH(__first, {2 if grain.period_length == 'quarter' else 0}) = __last")
    ratio = plan.ratio
    if ratio is not None:
        filters += [
            f"KEEPFILTERS({_dax_column(table, name)} = {_dax_text(value)})" for name, value in ratio.rows.items()
        ]
        numerator = _dax_terms(table, ratio.numerator)
        numerator = f"{ratio.scale:g} * ({numerator})" if ratio.scale != 1 else numerator
        denominator = _dax_terms(table, ratio.denominator)
        if ratio.positive_denominator:
            inner = (
                f"VAR __denominator = {denominator} RETURN IF(__denominator > 0, DIVIDE({numerator}, __denominator))"
            )
        else:
            inner = f"DIVIDE({numerator}, {denominator})"
    elif plan.aggregate == "stored":
        inner = f"IF(COUNTROWS('{table}') = 1, MIN({_dax_column(table, column)}))"
    else:
        inner = f"SUM({_dax_column(table, column)})"
    if plan.time in {"opening", "closing"} and grain.date:
        pick = "MIN" if plan.time == "opening" else "MAX"
        date_column = _dax_column(table, grain.date)
        inner = f"VAR __at = {pick}({date_column}) RETURN CALCULATE({inner}, {date_column} = __at)"
    branches: list[tuple[str | None, list[str]]] = [(None, filters)]
    if members is not None:
        branches = []
        for value, dimension in members.dimensions.items():
            key = dimension_keys.get(dimension)
            if key is None:
                continue
            treat = f"TREATAS(VALUES('{dimension}'[{key}]), {_dax_column(table, members.column)})"
            branches.append((value, [*filters, treat]))
        branches.append((None, filters))
    rendered = []
    for member, kept in branches:
        body = f"CALCULATE({inner}, {', '.join(kept)})" if kept else inner
        rendered.append((member, body))
    if len(rendered) == 1:
        result = rendered[0][1]
    else:
        cases = ", ".join(f"{_dax_text(str(value))}, {body}" for value, body in rendered if value is not None)
        result = f"SWITCH({_variable(members.by)}, {cases}, {rendered[-1][1]})" if members else rendered[-1][1]
    condition = " && ".join(guards)
    expression = f"IF({condition}, {result})" if condition else result
    return "\n".join([*lines, f"RETURN {expression}"]) if lines else expression
