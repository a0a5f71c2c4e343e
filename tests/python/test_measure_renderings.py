"""The two renderings of a KPI measure (crm_kpi.measures), on hand-made rows with hand-computed answers.

A small period-typed mart: Q1 2025 as three month rows and one quarter row, for the company and for two reps.
The SQL twin is evaluated in DuckDB in the contexts a report page holds, and the DAX measure, rendered from the
same plan, is checked construct by construct against what the SQL twin did (Power BI cannot run here):

    company  period   bookings  open_value  worked  won  lost  median_days
    month    Jan         100        50        3      1     1       10
    month    Feb         200        70        4      2     0       12
    month    Mar         300        90        2      0     0        8
    quarter  Q1          600        90        6      3     1       11
    rep r1   Jan          40        20        1      1     0        9
    rep r2   Jan          60        30        2      0     1       14

bookings is a sum, open_value a closing snapshot, worked a distinct count (the quarter's 6 deals are not the
months' 3 + 4 + 2), win_rate = won / (won + lost), median_days a stored median.
"""

from __future__ import annotations

from datetime import date

import duckdb
import pytest

from crm_kpi import manifest, measures
from crm_kpi.measures import Context

ROWS = [
    # period_type, period_start, period_end, breakdown, breakdown_id, bookings, open_value, worked, won, lost, median
    ("month", "2025-01-01", "2025-01-31", "company", None, 100, 50, 3, 1, 1, 10),
    ("month", "2025-02-01", "2025-02-28", "company", None, 200, 70, 4, 2, 0, 12),
    ("month", "2025-03-01", "2025-03-31", "company", None, 300, 90, 2, 0, 0, 8),
    ("quarter", "2025-01-01", "2025-03-31", "company", None, 600, 90, 6, 3, 1, 11),
    ("month", "2025-01-01", "2025-01-31", "rep", "r1", 40, 20, 1, 1, 0, 9),
    ("month", "2025-01-01", "2025-01-31", "rep", "r2", 60, 30, 2, 0, 1, 14),
]
CALENDAR = (date(2025, 1, 1), date(2025, 12, 31))  # the date table: whole calendar years
Q1 = (date(2025, 1, 1), date(2025, 3, 31))
FEB = (date(2025, 2, 1), date(2025, 2, 28))
MAR = (date(2025, 3, 1), date(2025, 3, 31))
JAN = (date(2025, 1, 1), date(2025, 1, 31))


def _column(
    name: str, aggregate: str, measure: str = "count", ratio: manifest.Ratio | None = None
) -> manifest.MartColumn:
    return manifest.MartColumn(name, "bigint", name, measure, ("S1",), aggregate, ratio)


MART = manifest.Mart(
    name="kpi_example",
    path="models/marts/kpi/sales/kpi_example.sql",
    description="Hand-made rows.",
    columns=(
        manifest.MartColumn("period_type", "varchar", ""),
        manifest.MartColumn("period_start", "date", ""),
        manifest.MartColumn("period_end", "date", ""),
        manifest.MartColumn("breakdown", "varchar", ""),
        manifest.MartColumn("breakdown_id", "varchar", ""),
        _column("bookings", "sum", "money"),
        _column("open_value", "closing", "money"),
        _column("worked", "period"),
        _column("won", "sum"),
        _column("lost", "sum"),
        _column("median_days", "stored", "duration"),
        _column("win_rate", "ratio", "rate", manifest.Ratio("win_rate", ("won",), ("won", "lost"))),
        _column("close_ratio", "ratio", "rate", manifest.Ratio("close_ratio", ("won",), ("worked",))),
    ),
    grain=("period_type", "period_start", "breakdown", "breakdown_id"),
    reading=manifest.Grain(
        date="period_start",
        period_type="period_type",
        period_end="period_end",
        period_default="month",
        selectors={"breakdown": "company"},
        members=manifest.Members("breakdown", "breakdown_id", {"rep": "dim_reps"}),
    ),
)


@pytest.fixture(scope="module")
def connection() -> duckdb.DuckDBPyConnection:
    connection = duckdb.connect()
    connection.execute(
        "create table kpi_example (period_type varchar, period_start date, period_end date, breakdown varchar, "
        "breakdown_id varchar, bookings decimal(18, 2), open_value decimal(18, 2), worked bigint, won bigint, "
        "lost bigint, median_days double)"
    )
    connection.executemany("insert into kpi_example values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", ROWS)
    return connection


def evaluate(connection: duckdb.DuckDBPyConnection, column: str, context: Context) -> object:
    mart_column = MART.column(column)
    assert mart_column is not None
    plan = measures.plan(MART, mart_column)
    assert plan is not None
    query = measures.sql(plan, context, "kpi_example", CALENDAR)
    if query is None:
        return None
    row = connection.execute(query).fetchone()
    assert row is not None
    return None if row[0] is None else float(row[0])


def dax(column: str) -> str:
    mart_column = MART.column(column)
    assert mart_column is not None
    plan = measures.plan(MART, mart_column)
    assert plan is not None
    return measures.dax(plan, {"dim_reps": "user_id"})


@pytest.mark.parametrize(
    ("column", "context", "expected"),
    [
        # A sum reads the month rows, which tile any span: never the months and the quarter together (1,200).
        ("bookings", Context(), 600),
        ("bookings", Context(dates=Q1), 600),
        ("bookings", Context(dates=FEB), 200),
        ("bookings", Context(chosen={"period_type": "quarter"}), 600),
        # A snapshot: the last period's value over a span (never 50 + 70 + 90 = 210).
        ("open_value", Context(), 90),
        ("open_value", Context(dates=Q1), 90),
        ("open_value", Context(dates=FEB), 70),
        # A distinct count: only a period's own row (the quarter's 6, not 3 + 4 + 2); blank for a whole year.
        ("worked", Context(dates=Q1), 6),
        ("worked", Context(dates=FEB), 4),
        ("worked", Context(), None),
        # A stored median: one row's value, blank for a span with no row of its own.
        ("median_days", Context(dates=Q1), 11),
        ("median_days", Context(), None),
        # A ratio of sums over the rows: (1 + 2 + 0) / (2 + 2 + 0); a zero denominator is blank, not 0.
        ("win_rate", Context(), 0.75),
        ("win_rate", Context(dates=MAR), None),
        # A ratio reading a distinct count is the period's own: 3 won of the quarter's 6 worked deals.
        ("close_ratio", Context(dates=Q1), 0.5),
        ("close_ratio", Context(), None),
        # A rep chosen in dim_reps reads the rep rows (the breakdown's default, company, gives way).
        ("bookings", Context(dates=JAN, members={"dim_reps": ("r1",)}), 40),
        ("bookings", Context(dates=JAN, members={"dim_reps": ("r1", "r2")}), 100),
        ("win_rate", Context(dates=JAN, members={"dim_reps": ("r2",)}), 0.0),
        # Two values of one selector chosen at once: blank (the rows of two grains are never added up).
        ("bookings", Context(several=frozenset({"breakdown"})), None),
        ("bookings", Context(several=frozenset({"period_type"})), None),
        ("worked", Context(dates=Q1, several=frozenset({"period_type"})), 6),
    ],
)
def test_the_sql_twin_on_hand_made_rows(
    connection: duckdb.DuckDBPyConnection, column: str, context: Context, expected: float | None
) -> None:
    got = evaluate(connection, column, context)
    assert (got is None and expected is None) or (
        got is not None and expected is not None and got == pytest.approx(expected)
    )


def test_the_dax_says_what_the_sql_twin_does() -> None:
    """Each rule of the SQL twin above, as its DAX construct."""
    bookings, open_value, worked, median, win_rate = (
        dax(name) for name in ("bookings", "open_value", "worked", "median_days", "win_rate")
    )
    # The month rows unless a period type is chosen; the company rows unless a breakdown or a rep is chosen.
    assert (
        "VAR __period = IF(ISFILTERED('kpi_example'[period_type]), "
        "SELECTEDVALUE('kpi_example'[period_type]), \"month\")" in bookings
    )
    assert 'IF(ISFILTERED(\'dim_reps\'), "rep", "company")' in bookings
    assert "TREATAS(VALUES('dim_reps'[user_id]), 'kpi_example'[breakdown_id])" in bookings
    assert "NOT(ISBLANK(__breakdown)) && NOT(ISBLANK(__period))" in bookings  # two values chosen: blank
    assert "SUM('kpi_example'[bookings])" in bookings
    # A row counts when its whole period is inside the context's dates.
    assert "'kpi_example'[period_end] <= __last" in bookings
    # The snapshot's last period.
    assert "VAR __at = MAX('kpi_example'[period_start]) RETURN CALCULATE(SUM('kpi_example'[open_value])" in open_value
    # The distinct count and the median: the row of the context's own period, whatever its type.
    for expression in (worked, median):
        assert "'kpi_example'[period_start] = __first" in expression
        assert "'kpi_example'[period_end] = __last" in expression
        assert "__period" not in expression
    assert "IF(COUNTROWS('kpi_example') = 1, MIN('kpi_example'[median_days]))" in median
    # The ratio of sums; DIVIDE is blank on a zero denominator.
    assert "DIVIDE(SUM('kpi_example'[won]), SUM('kpi_example'[won]) + SUM('kpi_example'[lost]))" in win_rate


def test_a_ratio_of_stored_values_is_read_as_stored() -> None:
    """CLV:CAC (a ratio of two ratios) is tested row by row, but no sum re-aggregates it."""
    mart = manifest.Mart(
        name="kpi_example",
        path=MART.path,
        description="",
        columns=(
            _column("cac", "ratio", "money", manifest.Ratio("cac", ("spend",), ("customers",))),
            _column("spend", "sum", "money"),
            _column("customers", "sum"),
            _column("clv", "stored", "money"),
            _column("clv_to_cac", "ratio", "ratio", manifest.Ratio("clv_to_cac", ("clv",), ("cac",))),
        ),
        grain=("month",),
    )
    clv_to_cac = mart.column("clv_to_cac")
    cac = mart.column("cac")
    assert clv_to_cac is not None and cac is not None
    stored = measures.plan(mart, clv_to_cac)
    recomputed = measures.plan(mart, cac)
    assert stored is not None and stored.aggregate == "stored" and stored.ratio is None
    assert recomputed is not None and recomputed.aggregate == "ratio" and recomputed.time == "sum"
