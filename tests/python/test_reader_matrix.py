"""Every reader gives the mart's number: each KPI measure (the Power BI measure's SQL twin, rendered from the
same declaration as its DAX by crm_kpi.measures) evaluated in the filter contexts a report page holds, against
the mart's own rows, for every KPI mart, every grain it holds and every context:

- the row contexts: a context that selects one row of the mart (its period's dates, its grain values, its rep,
  team, product or campaign) gives that row's stored value, for every KPI column of the mart;
- the span contexts, where the old model summed grains and snapshots together: a blank page, each year, each
  quarter and each month, with no grain chosen. A sum gives the sum of the mart's rows of the coarsest period
  type inside the span (the quarter rows: a different grain than the month rows the measure reads); a snapshot
  the first / last period's row; a distinct count, a stored value or a ratio of them the period's own row, and
  blank for a span the mart has no row of (a year, a blank page);
- the member contexts: a rep or a team within a quarter gives that rep's or team's quarter row.

Power BI cannot run here; the DAX and its SQL twin are two renderings of one plan (test_measure_renderings
proves on hand-made rows what each construct means). MetricFlow's leg is tests/python/test_semantic_layer.py.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date

import duckdb
import pandas as pd
import pytest

from crm_kpi import manifest, measures
from crm_kpi.measures import Context, Plan

pytestmark = pytest.mark.slow
ROWS_PER_GRAIN = 3  # row contexts per combination of grain values: the first, a middle and the last row


@dataclass(frozen=True)
class Case:
    mart: str
    context: Context
    label: str
    expected: Mapping[str, object]  # column -> the mart's number (None: blank)


def _plans(mart: manifest.Mart) -> dict[str, Plan]:
    found = {}
    for column in mart.columns:
        plan = measures.plan(mart, column) if column.kpis else None
        if plan is not None:
            found[column.name] = plan
    return found


def _value(value: object) -> object:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return None
    return value


def _row_context(mart: manifest.Mart, row: Mapping[str, object]) -> Context:
    """The context that selects exactly `row`: its period, grain values, members and other key columns."""
    grain = mart.reading
    chosen: dict[str, str] = {}
    filters: dict[str, tuple[str, ...]] = {}
    members: dict[str, tuple[str, ...]] = {}
    dates = None
    if grain.date:
        start = pd.Timestamp(row[grain.date]).date()
        if grain.period_end:
            end = pd.Timestamp(row[grain.period_end]).date()
        else:
            months = 3 if grain.period_length == "quarter" else 1
            end = (pd.Timestamp(start) + pd.DateOffset(months=months) - pd.DateOffset(days=1)).date()
        dates = (start, end)
    for name in grain.grain_columns:
        chosen[name] = str(row[name])
    if grain.members is not None:
        dimension = grain.members.dimensions.get(str(row[grain.members.by]))
        key = row[grain.members.column]
        if dimension is not None and key is not None:
            members[dimension] = (str(key),)
            chosen.pop(grain.members.by, None)
        elif key is not None:
            filters[grain.members.column] = (str(key),)
    skip = {grain.date, grain.period_end, *grain.grain_columns}
    if grain.members is not None:
        skip |= {grain.members.by, grain.members.column}
    for name in mart.grain:
        if name not in skip and _value(row[name]) is not None:
            filters[name] = (str(row[name]),)
    return Context(dates, chosen, filters, members)


def _row_cases(mart: manifest.Mart, frame: pd.DataFrame, plans: Mapping[str, Plan]) -> Iterator[Case]:
    grain_columns = [name for name in mart.reading.grain_columns if name in frame.columns]
    if mart.reading.members is not None:
        grain_columns.append(mart.reading.members.by)
    groups = frame.groupby(grain_columns, dropna=False) if grain_columns else [((), frame)]
    for values, rows in groups:
        picked = rows.iloc[sorted({0, len(rows) // 2, len(rows) - 1})]
        for _, row in picked.head(ROWS_PER_GRAIN).iterrows():
            context = _row_context(mart, row.to_dict())
            expected = {name: _value(row[name]) for name in plans}
            yield Case(mart.name, context, f"row {values}", expected)


def _spans(
    frame: pd.DataFrame, start: str, calendar: tuple[date, date]
) -> Iterator[tuple[str, tuple[date, date] | None]]:
    yield "blank page", None
    starts = pd.to_datetime(frame[start]).dt.date
    for year in sorted({day.year for day in starts}):
        yield f"year {year}", (date(year, 1, 1), date(year, 12, 31))
    quarters = sorted({date(day.year, 3 * ((day.month - 1) // 3) + 1, 1) for day in starts})
    for first in quarters:
        yield f"quarter {first}", (first, (pd.Timestamp(first) + pd.DateOffset(months=3, days=-1)).date())
    months = sorted({date(day.year, day.month, 1) for day in starts})
    for first in months[:: max(1, len(months) // 6)]:
        yield f"month {first}", (first, (pd.Timestamp(first) + pd.DateOffset(months=1, days=-1)).date())


def _expected_in_span(
    mart: manifest.Mart, frame: pd.DataFrame, plan: Plan, span: tuple[date, date] | None, defaults: Mapping[str, str]
) -> object:
    """The mart's own number for a span, from the rows of the coarsest period type inside it (pandas, not the
    twin): sums add those rows; snapshots take the first / last period's row; exact values the span's row."""
    grain = mart.reading
    rows = frame
    for name, value in defaults.items():
        rows = rows[rows[name].astype(str) == value]
    if plan.ratio is not None:
        for name, value in plan.ratio.rows.items():
            rows = rows[rows[name].astype(str) == value]
    starts = pd.to_datetime(rows[str(grain.date)]).dt.date
    if grain.period_end:
        ends = pd.to_datetime(rows[grain.period_end]).dt.date
    else:
        months = 3 if grain.period_length == "quarter" else 1
        ends = (pd.to_datetime(rows[str(grain.date)]) + pd.DateOffset(months=months) - pd.DateOffset(days=1)).dt.date
    if plan.time == "exact":
        if span is None:
            return None
        exact = rows[(starts == span[0]) & (ends == span[1])]
        return _aggregate(plan, exact)
    inside = rows if span is None else rows[(starts >= span[0]) & (ends <= span[1])]
    if grain.period_type:
        types = [kind for kind in ("quarter", "month", "week") if (inside[grain.period_type] == kind).any()]
        if not types:
            return None
        # sums: the coarsest type that tiles the span; snapshots: the month rows' first / last period.
        kind = types[0] if plan.time == "sum" else str(grain.period_default)
        inside = inside[inside[grain.period_type] == kind]
    if plan.time in {"opening", "closing"} and len(inside):
        column = pd.to_datetime(inside[str(grain.date)])
        inside = inside[column == (column.min() if plan.time == "opening" else column.max())]
    return _aggregate(plan, inside)


def _aggregate(plan: Plan, rows: pd.DataFrame) -> object:
    if not len(rows):
        return None
    ratio = plan.ratio
    if plan.aggregate == "stored":
        return _value(rows[plan.column.name].iloc[0]) if len(rows) == 1 else None
    if ratio is None:
        return _value(rows[plan.column.name].astype(float).sum(min_count=1))

    def total(terms: Sequence[str]) -> float | None:
        """A sum of terms as a BI tool adds them: a term of no values is blank, and blank counts as 0 unless
        every term is blank."""
        sums = []
        for term in terms:
            product = pd.Series(1.0, index=rows.index)
            for name in manifest.term_columns(term):
                product = product * rows[name].astype(float)
            value = product.sum(min_count=1)
            sums.append(None if pd.isna(value) else (-value if term.startswith("-") else value))
        present = [value for value in sums if value is not None]
        return sum(present) if present else None

    numerator, denominator = total(ratio.numerator), total(ratio.denominator)
    if numerator is None or denominator is None or denominator == 0:
        return None
    if ratio.positive_denominator and denominator <= 0:
        return None
    return ratio.scale * numerator / denominator


def _span_cases(
    mart: manifest.Mart, frame: pd.DataFrame, plans: Mapping[str, Plan], calendar: tuple[date, date]
) -> Iterator[Case]:
    """The spans with no grain chosen; a selector without default (a survey type, a cohort's month number) is
    chosen for each of its first values, since the measures are blank until it is."""
    grain = mart.reading
    if not grain.date:
        return
    open_selectors = [name for name, default in grain.selectors.items() if default is None]
    choices = [{}] if not open_selectors else []
    for values in frame[open_selectors].drop_duplicates().sort_values(open_selectors).head(4).itertuples(index=False):
        choices.append({name: str(value) for name, value in zip(open_selectors, values, strict=True)})
    for chosen in choices:
        defaults = {name: str(value) for name, value in grain.selectors.items() if value is not None} | chosen
        for label, span in _spans(frame, grain.date, calendar):
            expected = {name: _expected_in_span(mart, frame, plan, span, defaults) for name, plan in plans.items()}
            yield Case(mart.name, Context(dates=span, chosen=chosen), f"{label} {chosen}", expected)


def _member_cases(mart: manifest.Mart, frame: pd.DataFrame, plans: Mapping[str, Plan]) -> Iterator[Case]:
    """A rep, a team (or a product) within each quarter: that member's quarter row."""
    grain, members = mart.reading, mart.reading.members
    if members is None or grain.period_type is None:
        return
    for by, dimension in members.dimensions.items():
        rows = frame[(frame[members.by] == by) & (frame[grain.period_type] == "quarter")]
        for name, default in grain.selectors.items():
            if name != members.by and default is not None:
                rows = rows[rows[name].astype(str) == default]
        for _, row in rows.head(8).iterrows():
            start, end = pd.Timestamp(row[grain.date]).date(), pd.Timestamp(row[grain.period_end]).date()
            context = Context(dates=(start, end), members={dimension: (str(row[members.column]),)})
            expected = {}
            for name, plan in plans.items():
                if plan.time == "exact" or plan.time in {"opening", "closing"}:
                    expected[name] = _value(row[name]) if plan.time == "exact" else None
                else:
                    expected[name] = _value(row[name])
            # snapshots over a quarter read the member's months: compared with the month rows, not the quarter row
            for name, plan in plans.items():
                if plan.time in {"opening", "closing"}:
                    months = frame[(frame[members.by] == by) & (frame[members.column] == row[members.column])]
                    months = months[months[grain.period_type] == grain.period_default]
                    for selector, default in grain.selectors.items():
                        if selector != members.by and default is not None:
                            months = months[months[selector].astype(str) == default]
                    dates = pd.to_datetime(months[grain.date]).dt.date
                    months = months[(dates >= start) & (dates <= end)]
                    expected[name] = _expected_in_span(mart, months, plan, (start, end), {})
            yield Case(mart.name, context, f"{by} {row[members.column]} quarter {start}", expected)


def _close(left: object, right: object, money: bool) -> bool:
    left, right = _value(left), _value(right)
    if left is None or right is None:
        return left is None and right is None
    # Money to the cent (every amount is rounded once on its own row, so sums over any grain are exact);
    # counts exact; ratios to float precision.
    tolerance = 0.005 if money else 1e-9
    return math.isclose(float(left), float(right), rel_tol=1e-9, abs_tol=tolerance)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def matrix(demo_warehouse) -> tuple[list[tuple[Case, str, object, object]], int]:  # type: ignore[no-untyped-def]
    marts = demo_warehouse.marts()
    failures: list[tuple[Case, str, object, object]] = []
    checked = 0
    with duckdb.connect(str(demo_warehouse.db_path), read_only=True) as connection:
        first, last = connection.execute("select min(date_day), max(date_day) from marts.dim_dates").fetchone()
        calendar = (first, last)
        for mart in marts.values():
            plans = _plans(mart) if mart.is_kpi else {}
            if not plans:
                continue
            frame = connection.execute(f"select * from marts.{mart.name}").df()
            cases = [
                *_row_cases(mart, frame, plans),
                *_span_cases(mart, frame, plans, calendar),
                *_member_cases(mart, frame, plans),
            ]
            for case in cases:
                queries = {
                    name: measures.sql(plan, case.context, f"marts.{mart.name}", calendar)
                    for name, plan in plans.items()
                }
                select = ", ".join(
                    f"({query}) as {name}" if query else f"null as {name}" for name, query in queries.items()
                )
                got = connection.execute(f"select {select}").fetchone()
                assert got is not None
                for (name, plan), value in zip(plans.items(), got, strict=True):
                    checked += 1
                    if not _close(value, case.expected[name], plan.column.is_money or plan.column.measure == "money"):
                        failures.append((case, name, value, case.expected[name]))
    return failures, checked


def test_every_measure_gives_the_marts_number_in_every_context(matrix) -> None:  # type: ignore[no-untyped-def]
    failures, checked = matrix
    assert checked > 5000, f"the matrix checked only {checked} (measure, context) pairs"
    shown = "\n".join(
        f"{case.mart}.{name} [{case.label}]: measure {got!r}, mart {expected!r}"
        for case, name, got, expected in failures[:40]
    )
    assert not failures, f"{len(failures)} of {checked} (measure, context) pairs differ:\n{shown}"


def test_the_matrix_catches_a_measure_that_sums_grains(demo_warehouse) -> None:  # type: ignore[no-untyped-def]
    """The control: the old measures (a plain SUM over every row in the filter context) summed the week, month
    and quarter rows of a year together, and a snapshot over time; the comparisons above refuse both."""
    marts = demo_warehouse.marts()
    with duckdb.connect(str(demo_warehouse.db_path), read_only=True) as connection:
        calendar = connection.execute("select min(date_day), max(date_day) from marts.dim_dates").fetchone()
        for mart_name, column_name in (("kpi_revenue_by_period", "bookings"), ("kpi_mrr_movements", "ending_mrr")):
            mart = marts[mart_name]
            column = mart.column(column_name)
            assert column is not None
            right = measures.plan(mart, column)
            assert right is not None
            naive = dataclasses.replace(
                right, mart=dataclasses.replace(mart, reading=manifest.Grain(date=mart.reading.date)), time="sum"
            )
            frame = connection.execute(f"select * from marts.{mart_name}").df()
            defaults = {name: str(value) for name, value in mart.reading.selectors.items()}
            year = (date(2025, 1, 1), date(2025, 12, 31))
            expected = _expected_in_span(mart, frame, right, year, defaults)
            got = {}
            for label, plan in (("right", right), ("naive", naive)):
                query = measures.sql(plan, Context(dates=year), f"marts.{mart_name}", calendar)
                assert query is not None
                got[label] = connection.execute(query).fetchone()[0]  # type: ignore[index]
            assert _close(got["right"], expected, money=True), (mart_name, got, expected)
            assert not _close(got["naive"], expected, money=True), (mart_name, got, expected)
            assert float(got["naive"]) > 2.5 * float(expected)  # type: ignore[arg-type]
