"""The offline KPI report (`crm-kpi report`): rendered in a real browser (headless Chromium).

The page records every script error (window `error` and `unhandledrejection` events, installed before any other
script) and, after the load event, writes a JSON status into `<pre id="report-status">`: the views expected to
draw, the views whose plotly root holds its SVG, the errors. Chromium runs the page (`--dump-dom` with a
virtual time budget) and the test reads that status from the DOM it prints: every view whose mart exists drew,
no script error, and the pages whose marts are absent say "not built yet". Two broken pages prove the check
can fail. The page must not reach the network: it holds no http(s) URL that a browser would load.
"""

from __future__ import annotations

import dataclasses
import os
import re
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pytest

from crm_kpi import manifest, report


def _require_chromium() -> None:
    if report.chromium_binary() is None:
        if os.environ.get("CI") or os.environ.get("CRM_KPI_REQUIRE_ENGINES"):
            pytest.fail("Chromium is missing (apt-get install chromium-headless-shell): the report test must run")
        pytest.skip("no Chromium (apt-get install chromium-headless-shell)")


def _mart(name: str, columns: dict[str, str], kpis: tuple[str, ...]) -> manifest.Mart:
    return manifest.Mart(
        name=name,
        path=f"models/marts/kpi/x/{name}.sql",
        description=f"{name}.",
        columns=tuple(
            manifest.MartColumn(c, t, f"{c}.", None, kpis if t != "date" else ()) for c, t in columns.items()
        ),
        grain=(next(iter(columns)),),
    )


@pytest.fixture(scope="module")
def tiny_warehouse(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[manifest.Mart]]:
    """A tiny warehouse with the marts of the three views that filter their rows: each holds a later row of
    another period type or breakdown, which the view must not draw."""
    db_path = tmp_path_factory.mktemp("tiny") / "w.duckdb"
    waterfall = report.VIEWS[[view.key for view in report.VIEWS].index("pipeline_waterfall")]
    with duckdb.connect(str(db_path)) as connection:
        connection.execute("create schema marts")
        connection.execute("create table marts.dim_dates as select date '2026-10-31' as date_day")
        connection.execute(
            "create table marts.kpi_pipeline_waterfall as select * from (values"
            " ('month', date '2026-10-01', 100.0, 40.0, 10.0, 5.0, 30.0, 20.0, 0.0, 95.0),"
            " ('week', date '2026-10-26', 999.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 999.0))"
            f" as t(period_type, {', '.join(waterfall.columns)})"
        )
        connection.execute(
            "create table marts.kpi_mrr_movements as select * from (values"
            " ('month', 'total', date '2026-10-01', 1000.0, 100.0, 50.0, 20.0, 30.0, 0.0, 1100.0),"
            " ('month', 'region', date '2026-11-01', 7.0, 0.0, 0.0, 0.0, 0.0, 0.0, 7.0))"
            " as t(period_type, breakdown, period_start, starting_mrr, new_mrr, expansion_mrr, contraction_mrr,"
            " churned_mrr, reactivated_mrr, ending_mrr)"
        )
        connection.execute(
            "create table marts.kpi_customer_satisfaction as select * from (values"
            " ('nps', 'quarter', 'total', date '2026-04-01', 20.0),"
            " ('nps', 'quarter', 'total', date '2026-07-01', 35.0),"
            " ('csat', 'quarter', 'total', date '2026-07-01', 8.0))"
            " as t(survey_type, period_type, breakdown, period_start, nps)"
        )
    money = "decimal(18,2)"
    text = {"period_type", "breakdown", "survey_type"}

    def typed(columns: tuple[str, ...]) -> dict[str, str]:
        return {c: "date" if c == "period_start" else "varchar" if c in text else money for c in columns}

    views = {view.key: view for view in report.VIEWS}
    marts = [
        _mart("dim_dates", {"date_day": "date"}, ()),
        _mart("kpi_pipeline_waterfall", typed(("period_type", *views["pipeline_waterfall"].columns)), ("S8",)),
        _mart("kpi_mrr_movements", typed(("period_type", "breakdown", *views["mrr_bridge"].columns)), ("C4",)),
        _mart(
            "kpi_customer_satisfaction",
            typed(("survey_type", "period_type", "breakdown", "period_start", "nps")),
            ("C7",),
        ),
    ]
    return db_path, marts


def test_views_read_their_rows_and_absent_marts_are_notes(tiny_warehouse: tuple[Path, list[manifest.Mart]]) -> None:
    db_path, marts = tiny_warehouse
    frames: dict[str, pd.DataFrame] = {}

    def keeping(view: report.View) -> report.View:
        def draw(frame: pd.DataFrame, as_of: date) -> Any:
            frames[view.key] = frame
            return view.draw(frame, as_of)

        return dataclasses.replace(view, draw=draw)

    as_of, rendered = report.render_views(db_path, marts, [keeping(view) for view in report.VIEWS])
    drawn = {item.view.key: item for item in rendered if item.drawn}
    assert set(drawn) == {"pipeline_waterfall", "mrr_bridge", "nps"}
    assert str(as_of) == "2026-10-31"
    # The month row, not the later week row; the company, not the later region row; NPS, not CSAT.
    assert frames["pipeline_waterfall"]["open_value_at_end"].tolist() == [95.0]
    assert frames["mrr_bridge"]["ending_mrr"].tolist() == [1100.0]
    assert sorted(frames["nps"]["nps"].tolist()) == [20.0, 35.0]
    assert "month starting 2026-10-01" in drawn["pipeline_waterfall"].html
    pending = [item for item in rendered if not item.drawn]
    assert {item.view.key for item in pending} == {"funnel", "cac_roi", "retention", "leaderboard"}
    for item in pending:
        assert "Not built yet" in item.html and item.view.columns[0] in item.html
    # Without their marts, the same views are notes.
    _, without = report.render_views(db_path, marts[:1])
    assert not any(item.drawn for item in without)


def test_last_full_quarter() -> None:
    from datetime import date

    assert report.last_full_quarter(date(2026, 10, 31)) == (date(2026, 7, 1), date(2026, 9, 30))
    assert report.last_full_quarter(date(2026, 9, 30)) == (date(2026, 7, 1), date(2026, 9, 30))
    assert report.last_full_quarter(date(2026, 1, 15)) == (date(2025, 10, 1), date(2025, 12, 31))


@pytest.fixture(scope="module")
def demo_report(demo_warehouse, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[report.Rendered]]:  # type: ignore[no-untyped-def]
    out = tmp_path_factory.mktemp("report") / "kpi_report.html"
    rendered = report.write_report(demo_warehouse.db_path, list(demo_warehouse.marts().values()), out)
    return out, rendered


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
