"""The offline KPI report (`crm-kpi report`): what each view reads and says, and the page in a real browser.

Each view reads one grain of its mart: a tiny warehouse holds, beside the rows a view must draw, rows of
another period type, breakdown, survey type or attribution rule, and the test checks that the view drew only
its own (the CAC view: one trace set per rule, one set shown, buttons that switch it and retitle the chart).
The figures (the JSON the page holds) are read for what a reader needs: the funnel's conversion rates are the
mart's, every axis has a title and money axes name the reporting currency, a cohort month not observed yet is
not 0%, NPS shows its respondents, the period that holds the as-of date is marked partial.

The page records every script error (window `error` and `unhandledrejection` events, installed before any other
script) and, after the load event, writes a JSON status into `<pre id="report-status">`: the views expected to
draw, the views whose plotly root holds its SVG, the errors, and each chart's title and axis titles as drawn.
Chromium runs the page (`--dump-dom` with a virtual time budget) and the test reads that status from the DOM it
prints: every view whose mart exists drew, no script error, the SVG says what the figure says, a click on an
attribution rule's button switches the view. Two broken pages prove the check can fail. The page must not
reach the network: it holds no http(s) URL that a browser would load.
"""

from __future__ import annotations

import base64
import dataclasses
import html
import json
import math
import os
import re
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pytest

from crm_kpi import manifest, report, report_views

AS_OF = "2026-10-20"  # the tiny warehouse's as-of date: October 2026 and Q4 2026 are partial
RULES = ("first_touch", "last_touch", "linear", "position_based")
MONEY_AXES = {  # the axes of each view that carry money (its layout key)
    "cac_roi": ("xaxis",),
    "leaderboard": ("xaxis",),
    "pipeline_waterfall": ("yaxis",),
    "mrr_bridge": ("yaxis",),
}


def _require_chromium() -> None:
    if report.chromium_binary() is None:
        if os.environ.get("CI") or os.environ.get("CRM_KPI_REQUIRE_ENGINES"):
            pytest.fail("Chromium is missing (apt-get install chromium-headless-shell): the report test must run")
        pytest.skip("no Chromium (apt-get install chromium-headless-shell)")


def _mart(
    name: str, columns: dict[str, str], kpis: tuple[str, ...], declared: manifest.Mart | None = None
) -> manifest.Mart:
    """A hand-made mart; with `declared` (the project's mart of that name) its declaration: the grain meta and
    each column's measure, aggregation and ratio."""

    def column(name: str, data_type: str) -> manifest.MartColumn:
        real = declared.column(name) if declared is not None else None
        if real is not None:
            return dataclasses.replace(real, data_type=data_type)
        return manifest.MartColumn(name, data_type, f"{name}.", None, kpis if data_type != "date" else ())

    return manifest.Mart(
        name=name,
        path=f"models/marts/kpi/x/{name}.sql",
        description=f"{name}.",
        columns=tuple(column(c, t) for c, t in columns.items()),
        grain=(next(iter(columns)),),
        reading=declared.reading if declared is not None else manifest.Grain(),
    )


def _table(connection: duckdb.DuckDBPyConnection, name: str, columns: str, rows: list[str]) -> dict[str, str]:
    """Create marts.<name> from value rows; returns its columns typed for the fake manifest."""
    connection.execute(f"create table marts.{name} as select * from (values {', '.join(rows)}) as t({columns})")
    described = connection.execute(f"describe marts.{name}").fetchall()
    return {row[0]: str(row[1]).lower() for row in described}


CAC_ROWS = [  # campaign, name, rule, spend, new customers, cac, roi: each rule its own numbers
    ("c1", "Alpha", "first_touch", 100.0, 4.0, 25.0, 1.5),
    ("c1", "Alpha", "last_touch", 100.0, 1.0, 100.0, -0.5),
    ("c1", "Alpha", "linear", 100.0, 2.5, 40.0, 0.25),
    ("c1", "Alpha", "position_based", 100.0, 2.0, 50.0, 0.1),
    ("c2", "Beta", "first_touch", 300.0, 0.0, None, -1.0),
    ("c2", "Beta", "last_touch", 300.0, 3.0, 100.0, 0.8),
    ("c2", "Beta", "linear", 300.0, 1.5, 200.0, 0.0),
    ("c2", "Beta", "position_based", 300.0, 2.0, 150.0, 0.2),
    *[("unattributed", "Unattributed", rule, 0.0, 1.0, 0.0, None) for rule in RULES],
]


@pytest.fixture(scope="module")
def tiny_warehouse(
    tmp_path_factory: pytest.TempPathFactory, parsed_marts: dict[str, manifest.Mart]
) -> tuple[Path, list[manifest.Mart]]:
    """A tiny warehouse as of 2026-10-20: each mart holds rows the view must not draw (another period type,
    breakdown, survey type; four attribution rules), a partial month and quarter, and a cohort grid with an
    observed 0% and months not observed yet."""
    db_path = tmp_path_factory.mktemp("tiny") / "w.duckdb"
    views = {view.key: view for view in report.VIEWS}
    waterfall = ", ".join(views["pipeline_waterfall"].columns)
    mrr = ", ".join(views["mrr_bridge"].columns)
    with duckdb.connect(str(db_path)) as connection:
        connection.execute("create schema marts")
        connection.execute(
            f"create table marts.dim_dates as select date '{AS_OF}' as date_day, false as is_after_as_of"
        )
        typed = {
            "kpi_pipeline_waterfall": _table(
                connection,
                "kpi_pipeline_waterfall",
                f"period_type, {waterfall}",
                [
                    "('month', date '2026-10-01', date '2026-10-31', 100.0, 40.0, 10.0, 5.0, 30.0, 20.0, 0.0, 95.0)",
                    "('week', date '2026-10-19', date '2026-10-25', 999.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 999.0)",
                ],
            ),
            "kpi_mrr_movements": _table(
                connection,
                "kpi_mrr_movements",
                f"period_type, breakdown, {mrr}",
                [
                    "('month', 'total', date '2026-09-01', date '2026-09-30', 1000.0, 100.0, 50.0, 20.0, 30.0, 0.0,"
                    " 1100.0)",
                    "('month', 'region', date '2026-10-01', date '2026-10-31', 7.0, 0.0, 0.0, 0.0, 0.0, 0.0, 7.0)",
                    "('quarter', 'total', date '2026-10-01', date '2026-12-31', 8.0, 0.0, 0.0, 0.0, 0.0, 0.0, 8.0)",
                ],
            ),
            "kpi_customer_satisfaction": _table(
                connection,
                "kpi_customer_satisfaction",
                "survey_type, period_type, breakdown, period_start, period_end, respondents, nps",
                [
                    "('nps', 'quarter', 'total', date '2026-04-01', date '2026-06-30', 20, 20.0)",
                    "('nps', 'quarter', 'total', date '2026-07-01', date '2026-09-30', 31, 35.0)",
                    "('nps', 'quarter', 'total', date '2026-10-01', date '2026-12-31', 6, -10.0)",
                    "('nps', 'quarter', 'region', date '2026-07-01', date '2026-09-30', 4, 90.0)",
                    "('nps', 'month', 'total', date '2026-09-01', date '2026-09-30', 9, 70.0)",
                    "('csat', 'quarter', 'total', date '2026-07-01', date '2026-09-30', 50, null)",
                ],
            ),
            "kpi_campaign_cac": _table(
                connection,
                "kpi_campaign_cac",
                "campaign_id, campaign_name, attribution_rule, spend, new_customers, cac, roi",
                [
                    "(" + ", ".join("null" if v is None else repr(v) for v in row) + ")"
                    for row in CAC_ROWS  # fmt: skip
                ],
            ),
            "kpi_funnel_conversion": _table(
                connection,
                "kpi_funnel_conversion",
                "cohort_month, channel, leads, mqls, sqls, opportunities, customers,"
                " mql_rate, sql_rate, opportunity_rate, win_rate, lead_to_customer_rate",
                [
                    "(date '2026-09-01', 'email', 100, 40, 20, 10, 5, 0.4, 0.5, 0.5, 0.5, 0.05)",
                    "(date '2026-10-01', 'email', 50, 10, 0, 0, 0, 0.2, 0.0, null, null, 0.0)",
                    "(date '2026-10-01', 'partner', 10, 5, 4, 2, 1, 0.5, 0.8, 0.5, 0.5, 0.1)",
                ],
            ),
            "kpi_churn_by_cohort": _table(
                connection,
                "kpi_churn_by_cohort",
                "cohort_month, months_since_start, cohort_size, active_customers, logo_retention",
                [
                    "(date '2026-08-01', 0, 2, 2, 1.0)",
                    "(date '2026-08-01', 1, 2, 0, 0.0)",
                    "(date '2026-08-01', 2, 2, 0, 0.0)",
                    "(date '2026-09-01', 0, 4, 4, 1.0)",
                    "(date '2026-09-01', 1, 4, 3, 0.75)",
                    "(date '2026-10-01', 0, 3, 3, 1.0)",
                ],
            ),
        }
    kpis = {
        "kpi_pipeline_waterfall": ("S8",),
        "kpi_mrr_movements": ("C4",),
        "kpi_customer_satisfaction": ("C7",),
        "kpi_campaign_cac": ("M1", "M3"),
        "kpi_funnel_conversion": ("F1",),
        "kpi_churn_by_cohort": ("C1",),
    }
    marts = [_mart("dim_dates", {"date_day": "date"}, ())]
    marts += [_mart(name, typed[name], kpis[name], parsed_marts[name]) for name in kpis]
    return db_path, marts


@pytest.fixture(scope="module")
def tiny_report(tiny_warehouse: tuple[Path, list[manifest.Mart]]) -> tuple[dict[str, pd.DataFrame], date, list[Any]]:
    """The views rendered on the tiny warehouse (in EUR), with the frame each view read."""
    db_path, marts = tiny_warehouse
    frames: dict[str, pd.DataFrame] = {}

    def keeping(view: report.View) -> report.View:
        def draw(frame: pd.DataFrame, context: report.Context) -> Any:
            frames[view.key] = frame
            return view.draw(frame, context)

        return dataclasses.replace(view, draw=draw)

    as_of, rendered = report.render_views(db_path, marts, [keeping(view) for view in report.VIEWS], currency="EUR")
    return frames, as_of, rendered


def _plain(value: Any) -> Any:
    """Figure JSON with plotly's typed arrays ({"dtype", "bdata", "shape"}) as lists, NaN as None."""
    if isinstance(value, dict) and {"dtype", "bdata"} <= set(value):
        array = np.frombuffer(base64.b64decode(value["bdata"]), dtype=np.dtype(value["dtype"]))
        if "shape" in value:
            array = array.reshape([int(size) for size in str(value["shape"]).split(",")])
        return _plain(array.tolist())
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return None if isinstance(value, float) and math.isnan(value) else value


def _figures(rendered: list[Any]) -> dict[str, dict[str, Any]]:
    return {item.view.key: _plain(item.figure) for item in rendered if item.drawn}


def test_views_read_one_grain_and_absent_marts_are_notes(
    tiny_warehouse: tuple[Path, list[manifest.Mart]], tiny_report: tuple[dict[str, pd.DataFrame], date, list[Any]]
) -> None:
    db_path, marts = tiny_warehouse
    frames, as_of, rendered = tiny_report
    drawn = {item.view.key: item for item in rendered if item.drawn}
    assert set(drawn) == {"funnel", "cac_roi", "retention", "pipeline_waterfall", "mrr_bridge", "nps"}
    assert str(as_of) == AS_OF
    # The month row, not the later week row; the company's month, not a region or a quarter; NPS, not CSAT.
    assert frames["pipeline_waterfall"]["open_value_at_end"].tolist() == [95.0]
    assert frames["mrr_bridge"]["ending_mrr"].tolist() == [1100.0]
    assert sorted(frames["nps"]["nps"].tolist()) == [-10.0, 20.0, 35.0]
    assert "month starting 2026-10-01" in drawn["pipeline_waterfall"].html
    # Every multi-grain column of a view's mart is pinned to one value, or is the view's one switch.
    by_name = {mart.name: mart for mart in marts}
    for item in drawn.values():
        assert report_views.unpinned(item.view, by_name[item.mart]) == [], item.view.key
    pending = [item for item in rendered if not item.drawn]
    assert {item.view.key for item in pending} == {"leaderboard"}
    for item in pending:
        assert "Not built yet" in item.html and item.view.columns[0] in item.html
    # Without their marts, the same views are notes.
    _, without = report.render_views(db_path, marts[:1])
    assert not any(item.drawn for item in without)


def _traces_of(figure: dict[str, Any], rule: str) -> list[dict[str, Any]]:
    return [trace for trace in figure["data"] if trace.get("meta") == rule]


def test_cac_roi_draws_one_attribution_rule_at_a_time(tiny_report: tuple[Any, date, list[Any]]) -> None:
    _, _, rendered = tiny_report
    figure = _figures(rendered)["cac_roi"]
    # One trace set per rule, each holding only its rule's rows: Alpha's CAC is 25 under first touch (not the
    # 215 of the four rules added up), and the first-touch set is the one shown.
    assert {trace.get("meta") for trace in figure["data"]} == set(RULES)
    for rule in RULES:
        cac_bar = next(t for t in _traces_of(figure, rule) if t["name"].startswith("CAC"))
        expected = {name: cac for _, name, r, _, _, cac, _ in CAC_ROWS if r == rule and name != "Unattributed"}
        drawn = dict(zip(cac_bar["y"], cac_bar["x"], strict=True))
        assert drawn.keys() == expected.keys(), rule
        for name, cac in expected.items():
            assert (drawn[name] is None) if cac is None else drawn[name] == pytest.approx(cac), (rule, name)
        roi_bar = next(t for t in _traces_of(figure, rule) if t["name"].startswith("ROI"))
        assert sorted(roi_bar["x"]) == sorted(roi for _, n, r, *_, roi in CAC_ROWS if r == rule and n != "Unattributed")
    visible = [trace for trace in figure["data"] if trace.get("visible") is not False]
    assert visible and {trace["meta"] for trace in visible} == {"first_touch"}
    assert "first-touch attribution" in figure["layout"]["title"]["text"]
    # A campaign without a new customer has no CAC: marked, never a bar at 0.
    marks = next(t for t in _traces_of(figure, "first_touch") if t["name"].startswith("no new customer"))
    assert marks["y"] == ["Beta"]
    # The buttons: one per rule, each showing exactly that rule's traces and naming the rule in the title.
    (menu,) = figure["layout"]["updatemenus"]
    assert [button["label"] for button in menu["buttons"]] == ["first-touch", "last-touch", "linear", "position-based"]
    assert menu["active"] == 0
    for rule, button in zip(RULES, menu["buttons"], strict=True):
        shown, layout = button["args"]
        assert shown["visible"] == [trace.get("meta") == rule for trace in figure["data"]]
        assert f"{report_views.RULE_NAMES[rule]} attribution" in layout["title.text"]
        cac_bar = next(t for t in _traces_of(figure, rule) if t["name"].startswith("CAC"))
        # Both panels list that rule's campaigns, by its CAC.
        assert layout["yaxis.categoryarray"] == layout["yaxis2.categoryarray"] == cac_bar["y"]


def test_funnel_shows_the_marts_conversion_rates(
    tiny_warehouse: tuple[Path, list[manifest.Mart]], tiny_report: tuple[Any, date, list[Any]]
) -> None:
    frames, _, rendered = tiny_report
    figure = _figures(rendered)["funnel"]
    traces = figure["data"]
    assert [trace["name"] for trace in traces] == ["all channels", "email", "partner"]
    assert [trace.get("visible") is not False for trace in traces] == [True, False, False]
    everything, email, partner = traces
    assert everything["x"] == [160, 55, 24, 12, 6]
    # One cohort and channel: the text states the mart's own rate columns.
    assert partner["text"] == [
        "10",
        "5 (50.0% of Leads)",
        "4 (80.0% of MQL)",
        "2 (50.0% of SQL)",
        "1 (50.0% of Opportunity)",
    ]
    # Several rows: the rates of the sums (the mart's ratio on those rows), n/a where nobody got that far.
    assert everything["text"][1] == "55 (34.4% of Leads)"
    assert "lead to customer 3.8% (6 of 160)" in figure["layout"]["title"]["text"]
    assert email["text"][3:] == ["10 (50.0% of SQL)", "5 (50.0% of Opportunity)"]
    funnel_declared = next(mart for mart in tiny_warehouse[1] if mart.name == "kpi_funnel_conversion")
    rates = report_views.funnel_rates(frames["funnel"].iloc[[1]], funnel_declared)
    assert rates["opportunity_rate"] is None and rates["win_rate"] is None
    buttons = figure["layout"]["updatemenus"][0]["buttons"]
    assert [button["label"] for button in buttons] == ["all channels", "email", "partner"]
    assert buttons[2]["args"][0]["visible"] == [False, False, True]
    assert buttons[2]["args"][1]["title.text"].startswith("Lead funnel, partner: lead to customer 10.0%")
    # The latest cohort month holds the as-of date: it is marked partial.
    assert f"2026-10 partial: to {AS_OF}" in figure["layout"]["title"]["subtitle"]["text"]


def _axes(figure: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {key: value for key, value in figure["layout"].items() if re.fullmatch(r"[xy]axis\d*", key)}


def test_every_axis_has_a_title_and_money_names_the_currency(tiny_report: tuple[Any, date, list[Any]]) -> None:
    _, _, rendered = tiny_report
    for key, figure in _figures(rendered).items():
        axes = _axes(figure)
        assert {"xaxis", "yaxis"} <= set(axes), key
        for name, axis in axes.items():
            if (key, name) != ("cac_roi", "yaxis2"):  # the ROI panel repeats the CAC panel's campaign axis, unlabelled
                assert (axis.get("title") or {}).get("text"), f"{key}.{name} has no title"
        for name in MONEY_AXES.get(key, ()):
            assert "(EUR)" in axes[name]["title"]["text"], f"{key}.{name}: {axes[name]['title']}"
        assert "USD" not in json.dumps(figure), key  # the currency is the warehouse's, never a default
    # A campaign's CAC is labelled in the currency too.
    cac = next(t for t in _figures(rendered)["cac_roi"]["data"] if t["name"] == "CAC, first-touch")
    assert "25 EUR" in cac["text"]


def test_cohorts_show_their_size_and_months_not_observed_are_not_zero(
    tiny_report: tuple[Any, date, list[Any]],
) -> None:
    _, _, rendered = tiny_report
    figure = _figures(rendered)["retention"]
    retention, unobserved = figure["data"]
    assert retention["y"] == ["2026-08 (2)", "2026-09 (4)", "2026-10 (3)"]
    assert retention["x"] == [0, 1, 2]
    # 2026-08, month 1: observed, nobody left: 0%, drawn as 0.
    assert retention["z"][0][1] == 0.0 and retention["text"][0][1] == "0%"
    assert "0% active (0 of 2)" in retention["hovertext"][0][1]
    # After the as-of date: no value (never 0), a grey cell of its own trace, "not observed yet" on hover.
    for row, column in ((1, 2), (2, 1), (2, 2)):
        assert retention["z"][row][column] is None and retention["text"][row][column] == ""
        assert unobserved["z"][row][column] == 1
        assert report_views.NOT_OBSERVED in retention["hovertext"][row][column]
    observed = [(0, 0), (0, 1), (0, 2), (1, 0), (1, 1), (2, 0)]
    assert all(unobserved["z"][row][column] is None for row, column in observed)
    assert unobserved["name"] == report_views.NOT_OBSERVED
    # October 2026 is observed to the as-of date only: partial.
    assert retention["text"][1][1] == "75%*" and f"partial: to {AS_OF}" in retention["hovertext"][1][1]
    assert retention["text"][0][1] == "0%"  # September closed before the as-of date


def test_nps_shows_respondents_and_the_partial_quarter(tiny_report: tuple[Any, date, list[Any]]) -> None:
    _, _, rendered = tiny_report
    figure = _figures(rendered)["nps"]
    complete, in_progress = figure["data"]
    assert complete["text"] == ["+20 (n=20)", "+35 (n=31)"]
    assert complete["x"] == ["2026 Q2<br>n=20", "2026 Q3<br>n=31"]
    assert in_progress["text"] == ["-10 (n=6)"]
    assert in_progress["x"] == [f"2026 Q4<br>n=6<br>partial: to {AS_OF}"]
    assert f"partial: to {AS_OF}" in in_progress["name"]
    assert in_progress["marker"]["symbol"] != complete["marker"]["symbol"]


def test_the_period_holding_the_as_of_date_is_marked_partial(tiny_report: tuple[Any, date, list[Any]]) -> None:
    _, _, rendered = tiny_report
    figures = _figures(rendered)
    assert figures["pipeline_waterfall"]["layout"]["title"]["text"] == (
        f"Pipeline waterfall, month starting 2026-10-01 (partial: to {AS_OF})"
    )
    assert figures["mrr_bridge"]["layout"]["title"]["text"] == "MRR bridge, month starting 2026-09-01"
    assert report_views.partial_note(date(2026, 10, 31), date(2026, 10, 31)) == ""
    assert report_views.partial_note(date(2026, 12, 31), date(2026, 10, 31)) == "partial: to 2026-10-31"


def test_last_full_quarter() -> None:
    assert report.last_full_quarter(date(2026, 10, 31)) == (date(2026, 7, 1), date(2026, 9, 30))
    assert report.last_full_quarter(date(2026, 9, 30)) == (date(2026, 7, 1), date(2026, 9, 30))
    assert report.last_full_quarter(date(2026, 1, 15)) == (date(2025, 10, 1), date(2025, 12, 31))


# --- the demo build --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo_report(demo_warehouse, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[report.Rendered]]:  # type: ignore[no-untyped-def]
    out = tmp_path_factory.mktemp("report") / "kpi_report.html"
    rendered = report.write_report(demo_warehouse.db_path, list(demo_warehouse.marts().values()), out)
    return out, rendered


@pytest.mark.slow
def test_demo_views_read_the_marts_rows(demo_report, demo_warehouse) -> None:  # type: ignore[no-untyped-def]
    _, rendered = demo_report
    marts = demo_warehouse.marts()
    figures = _figures(rendered)
    for item in rendered:
        assert report_views.unpinned(item.view, marts[item.mart]) == [], item.view.key
    # CAC: the first-touch bar of each campaign is the mart's first-touch row, not a sum over the rules.
    cac = demo_warehouse.frame("kpi_campaign_cac")
    first_touch = cac[(cac["attribution_rule"] == "first_touch") & (cac["campaign_id"] != "unattributed")]
    bar = next(t for t in figures["cac_roi"]["data"] if t["name"] == "CAC, first-touch")
    drawn = dict(zip(bar["y"], bar["x"], strict=True))
    assert len(drawn) == len(first_touch)
    for name, value in zip(first_touch["campaign_name"], first_touch["cac"], strict=True):
        assert drawn[name] is None if pd.isna(value) else drawn[name] == pytest.approx(value), name
    assert bar.get("visible") is not False
    # Funnel: the view's rates are the mart's columns_equal_ratios, row by row.
    funnel_mart = marts["kpi_funnel_conversion"]
    declared = {ratio.column: (ratio.numerator, ratio.denominator) for ratio in funnel_mart.ratios.values()}
    stages = report_views.FUNNEL_STAGES
    for (_, previous, _), (_, count, rate) in zip(stages, stages[1:], strict=False):
        assert declared[rate] == ((count,), (previous,)), rate
    funnel = demo_warehouse.frame("kpi_funnel_conversion")
    for index in range(len(funnel)):
        row = funnel.iloc[[index]]
        for rate, value in report_views.funnel_rates(row, funnel_mart).items():
            stored = row[rate].iloc[0]
            assert (value is None) == pd.isna(stored) and (value is None or math.isclose(value, stored)), rate
    # Retention: every month after the as-of date is not observed (not 0): 22 cohorts, 231 such cells.
    retention, unobserved = figures["retention"]["data"]
    cohorts = len(retention["y"])
    assert sum(value == 1 for row in unobserved["z"] for value in row) == cohorts * (cohorts - 1) // 2
    assert all(
        (value is None) == (flag == 1)
        for values, flags in zip(retention["z"], unobserved["z"], strict=True)
        for value, flag in zip(values, flags, strict=True)
    )
    # NPS: the demo's as-of date (2026-10-31) is inside Q4 2026.
    assert figures["nps"]["data"][-1]["x"][-1].endswith(f"partial: to {demo_warehouse.as_of.isoformat()}")


@pytest.mark.slow
def test_every_built_view_draws_in_chromium(demo_report, demo_warehouse) -> None:  # type: ignore[no-untyped-def]
    _require_chromium()
    out, rendered = demo_report
    marts = list(demo_warehouse.marts().values())
    should_draw = [view.key for view in report.VIEWS if report.resolve(view, marts) is not None]
    assert should_draw == [view.key for view in report.VIEWS], "every view has its mart in the demo build"
    status = report.status_of(report.render_dom(out))
    assert status["plotly"] == "object", "plotly.js did not load from the page itself"
    assert status["errors"] == [], status["errors"]
    assert status["expected"] == should_draw
    assert status["drawn"] == should_draw, f"views that did not draw: {set(should_draw) - set(status['drawn'])}"
    # The SVG says what the figures say: titles, every axis titled, money in the currency.
    charts = status["charts"]
    assert "first-touch attribution" in charts["cac_roi"]["title"]
    for key, chart in charts.items():
        assert chart["title"] and chart["axes"].get("x") and chart["axes"].get("y"), (key, chart)
        for axis in MONEY_AXES.get(key, ()):
            assert "(USD)" in chart["axes"][axis[0]], (key, chart["axes"])
    assert any("n=" in tick for tick in charts["nps"]["ticks"])
    assert any("partial: to 2026-10-31" in tick for tick in charts["nps"]["ticks"])
    assert any(re.fullmatch(r"\d{4}-\d{2} \(\d+\)", tick) for tick in charts["retention"]["ticks"])
    text = out.read_text(encoding="utf-8")
    for item in rendered:
        assert f'id="{item.view.key}"' in text
        if not item.drawn:
            assert f'data-view-pending="{item.view.key}"' in text
    # Each chart carries its definition and the as-of date.
    assert text.count(f"as of {demo_warehouse.as_of.isoformat()}") >= len(report.VIEWS)
    assert text.count('class="definition"') == len(report.VIEWS)
    # Offline: nothing for the browser to fetch (no script/link/img source over the network).
    assert not re.search(r"""<(script|link|img)[^>]+(src|href)=["']https?://""", text)


_CLICK = """
<script>
window.addEventListener("load", function () {
  setTimeout(function () {
    var chart = document.getElementById("chart-cac_roi");
    var button = Array.prototype.find.call(chart.querySelectorAll("g.updatemenu-button"), function (el) {
      return el.textContent.trim() === "%s";
    });
    button.dispatchEvent(new MouseEvent("click", {bubbles: true}));
    setTimeout(function () {
      var title = chart.querySelector("text.gtitle");
      document.getElementById("after-click").textContent = JSON.stringify({
        title: title ? title.textContent : null,
        campaigns: Array.prototype.slice.call(chart.querySelectorAll("g.ytick text")).sort(function (a, b) {
          return a.getBoundingClientRect().top - b.getBoundingClientRect().top;  // as a reader sees them
        }).map(function (el) { return el.textContent; }),
        shown: chart.data.filter(function (t) { return t.visible !== false; }).map(function (t) { return t.meta; })
      });
    }, 500);
  }, 200);
});
</script>
"""


@pytest.mark.slow
def test_a_click_switches_the_attribution_rule(demo_report, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _require_chromium()
    out, rendered = demo_report
    clicked = tmp_path / "clicked.html"
    page = out.read_text(encoding="utf-8")
    clicked.write_text(page.replace("</body>", f'<pre id="after-click"></pre>{_CLICK % "last-touch"}</body>'), "utf-8")
    dom = report.render_dom(clicked)
    start = dom.index('id="after-click">') + len('id="after-click">')
    after = json.loads(html.unescape(dom[start : dom.index("</pre>", start)]))
    assert "last-touch attribution" in after["title"], after
    assert after["shown"] and set(after["shown"]) == {"last_touch"}, after
    # The campaign axis follows: the last-touch campaigns, by their last-touch CAC (what the button holds).
    figure = next(item.figure for item in rendered if item.view.key == "cac_roi")
    (menu,) = figure["layout"]["updatemenus"]
    order = next(button for button in menu["buttons"] if button["label"] == "last-touch")["args"][1]
    first_touch = next(button for button in menu["buttons"] if button["label"] == "first-touch")["args"][1]
    assert order["yaxis.categoryarray"] != first_touch["yaxis.categoryarray"]
    assert after["campaigns"] == order["yaxis.categoryarray"], after["campaigns"]


@pytest.mark.slow
def test_the_browser_check_catches_a_broken_page(demo_report, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _require_chromium()
    out, _ = demo_report
    text = out.read_text(encoding="utf-8")
    with_error = tmp_path / "error.html"
    with_error.write_text(text.replace("</body>", "<script>undefinedReportFunction();</script></body>"), "utf-8")
    assert any(
        "undefinedReportFunction" in error for error in report.status_of(report.render_dom(with_error))["errors"]
    )
    start = text.index("<script>", text.index("__reportErrors") + 1)
    without_plotly = tmp_path / "no_plotly.html"
    without_plotly.write_text(text[:start] + text[text.index("</script>", start) + len("</script>") :], "utf-8")
    status = report.status_of(report.render_dom(without_plotly))
    assert status["drawn"] == [] and status["errors"], status
