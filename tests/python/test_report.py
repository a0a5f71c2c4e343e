"""The offline KPI report (`crm-kpi report`): rendered in a real browser (headless Chromium).

The page records every script error (window `error` and `unhandledrejection` events, installed before any other
script) and, after the load event, writes a JSON status into `<pre id="report-status">`: the views expected to
draw, the views whose plotly root holds its SVG, the errors. Chromium runs the page (`--dump-dom` with a
virtual time budget) and the test reads that status from the DOM it prints: every view whose mart exists drew,
no script error, and the pages whose marts are absent say "not built yet". Two broken pages prove the check
can fail. The page must not reach the network: it holds no http(s) URL that a browser would load.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import duckdb
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
def pending_warehouse(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[manifest.Mart]]:
    """A tiny warehouse with the three pending views' marts, under names the views do not know."""
    db_path = tmp_path_factory.mktemp("pending") / "w.duckdb"
    with duckdb.connect(str(db_path)) as connection:
        connection.execute("create schema marts")
        connection.execute("create table marts.dim_dates as select date '2026-10-31' as date_day")
        connection.execute(
            "create table marts.kpi_pipeline_moves as select date '2026-10-01' as period_start, 100.0 as open_at_start,"
            " 40.0 as created, 10.0 as amount_up, 5.0 as amount_down, 30.0 as won, 20.0 as lost, 0.0 as reopened,"
            " 95.0 as open_at_end"
        )
        connection.execute(
            "create table marts.kpi_mrr_moves as select date '2026-10-01' as month, 1000.0 as starting_mrr,"
            " 100.0 as new_mrr, 50.0 as expansion_mrr, 20.0 as contraction_mrr, 30.0 as churned_mrr,"
            " 0.0 as reactivated_mrr, 1100.0 as ending_mrr"
        )
        connection.execute(
            "create table marts.kpi_nps_by_quarter as select * from (values (date '2026-04-01', 20.0),"
            " (date '2026-07-01', 35.0)) as t(period_start, nps)"
        )
    money = "decimal(18,2)"
    views = {view.key: view for view in report.VIEWS}
    marts = [
        _mart("dim_dates", {"date_day": "date"}, ()),
        _mart(
            "kpi_pipeline_moves",
            {c: ("date" if c == "period_start" else money) for c in views["pipeline_waterfall"].columns},
            ("S8",),
        ),
        _mart("kpi_mrr_moves", {c: ("date" if c == "month" else money) for c in views["mrr_bridge"].columns}, ("C4",)),
        _mart("kpi_nps_by_quarter", {"period_start": "date", "nps": "double"}, ("C7",)),
    ]
    return db_path, marts


def test_pending_views_draw_once_their_mart_exists(pending_warehouse: tuple[Path, list[manifest.Mart]]) -> None:
    db_path, marts = pending_warehouse
    as_of, rendered = report.render_views(db_path, marts)
    drawn = {item.view.key: item.mart for item in rendered if item.drawn}
    assert drawn == {
        "pipeline_waterfall": "kpi_pipeline_moves",
        "mrr_bridge": "kpi_mrr_moves",
        "nps": "kpi_nps_by_quarter",
    }
    assert str(as_of) == "2026-10-31"
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
    assert {"funnel", "cac_roi", "retention", "leaderboard"} <= set(should_draw)
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
