"""The offline KPI report: one self-contained HTML page (plotly.js inlined, no network) with the views a sales
and marketing team opens first, read from the built DuckDB warehouse: `crm-kpi report`.

Each view is a `View` spec: the catalogue ids it shows, the columns it reads, and the mart that holds them. A
spec whose `mart` is None takes the first mart of the manifest that answers one of its KPI ids and has all of
its columns, so a view whose mart is not built yet is drawn as a visible "not built yet" note naming what it
needs, and draws once such a mart exists (set `mart` when the mart's name is known). Every chart carries its
KPI's definition (the catalogue's, and the dbt descriptions of the columns it reads) and the as-of date.

The page records script errors (window `error` events) and, once every chart has rendered, writes a JSON
status into `<pre id="report-status">`: the views drawn (a plotly root with its SVG) and the errors. The test
renders it in headless Chromium and reads that status from the DOM.
"""

from __future__ import annotations

import html
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import pandas as pd

from crm_kpi.catalogue import load_catalogue
from crm_kpi.manifest import Mart

if TYPE_CHECKING:
    import plotly.graph_objects as go

DrawFunction = Callable[[pd.DataFrame, date], "go.Figure"]


@dataclass(frozen=True)
class View:
    key: str
    title: str
    kpis: tuple[str, ...]
    columns: tuple[str, ...]
    draw: DrawFunction
    mart: str | None = None  # None: the first mart answering one of `kpis` that has all `columns`
    note: str = ""  # what the chart shows, beyond the KPI definitions
    where: str = ""  # a SQL predicate on the mart's rows (one period type or breakdown), written here, never input


def resolve(view: View, marts: Sequence[Mart]) -> Mart | None:
    """The mart a view reads: its named mart, else one answering its KPIs with all its columns (None: not built)."""
    for mart in marts:
        has_columns = set(view.columns) <= set(mart.column_names)
        if view.mart is not None:
            if mart.name == view.mart and has_columns:
                return mart
        elif has_columns and set(view.kpis) & set(mart.kpi_ids):
            return mart
    return None


# --- the views -------------------------------------------------------------------------------------------


def _figure() -> Any:
    import plotly.graph_objects as go

    return go


def draw_funnel(frame: pd.DataFrame, as_of: date) -> go.Figure:
    go = _figure()
    stages = ["leads", "mqls", "sqls", "opportunities", "customers"]
    totals = frame.groupby("channel")[stages].sum().sort_values("leads", ascending=False)
    figure = go.Figure()
    for channel, row in totals.iterrows():
        figure.add_trace(
            go.Funnel(name=str(channel), y=["Leads", "MQL", "SQL", "Opportunity", "Customer"], x=list(row.values))
        )
    figure.update_layout(title="Lead funnel by channel (all cohorts)", funnelmode="stack", height=520)
    return figure


def draw_cac_roi(frame: pd.DataFrame, as_of: date) -> go.Figure:
    from plotly.subplots import make_subplots

    go = _figure()
    data = frame.sort_values("cac", na_position="last").copy()
    figure = make_subplots(specs=[[{"secondary_y": True}]])
    figure.add_trace(go.Bar(name="CAC", x=data["campaign_name"], y=data["cac"]), secondary_y=False)
    figure.add_trace(
        go.Scatter(name="ROI", x=data["campaign_name"], y=data["roi"], mode="markers", marker={"size": 10}),
        secondary_y=True,
    )
    figure.update_yaxes(title_text="CAC (reporting currency)", secondary_y=False)
    figure.update_yaxes(title_text="ROI", tickformat=".0%", secondary_y=True)
    figure.update_layout(title="CAC and ROI per campaign (all time)", height=520, xaxis_tickangle=-45)
    return figure


def draw_retention(frame: pd.DataFrame, as_of: date) -> go.Figure:
    go = _figure()
    data = frame.copy()
    data["retention"] = data["active_customers"] / data["cohort_size"].where(data["cohort_size"] > 0)
    data["cohort"] = pd.to_datetime(data["cohort_month"]).dt.strftime("%Y-%m")
    grid = data.pivot_table(index="cohort", columns="months_since_start", values="retention", aggfunc="first")
    figure = go.Figure(
        go.Heatmap(
            z=grid.values,
            x=[int(month) for month in grid.columns],
            y=list(grid.index),
            colorscale="Blues",
            zmin=0,
            zmax=1,
            colorbar={"tickformat": ".0%", "title": "retention"},
            hovertemplate="cohort %{y}, month %{x}: %{z:.0%}<extra></extra>",
        )
    )
    figure.update_layout(
        title="Logo retention by subscription cohort",
        xaxis_title="months since start",
        yaxis={"autorange": "reversed", "title": "cohort"},
        height=560,
    )
    return figure


def last_full_quarter(as_of: date) -> tuple[date, date]:
    """The last calendar quarter that ended on or before the as-of date: (first day, last day)."""
    start = date(as_of.year, 3 * ((as_of.month - 1) // 3) + 1, 1)
    end_month = start.month + 2
    next_start = date(start.year + (end_month == 12), end_month % 12 + 1, 1)
    if (next_start - as_of).days == 1:  # the as-of date closes its own quarter
        return start, as_of
    previous = date(start.year - (start.month == 1), (start.month - 4) % 12 + 1, 1)
    return previous, date.fromordinal(start.toordinal() - 1)


def draw_leaderboard(frame: pd.DataFrame, as_of: date) -> go.Figure:
    go = _figure()
    start, end = last_full_quarter(as_of)
    months = pd.to_datetime(frame["month"]).dt.date
    data = frame[(months >= start) & (months <= end)]
    totals = data.groupby("rep_name")[["bookings", "quota"]].sum().sort_values("bookings", ascending=True)
    attainment = [
        f"{booked / quota:.0%} of quota" if quota else "no quota"
        for booked, quota in zip(totals["bookings"], totals["quota"], strict=True)
    ]
    figure = go.Figure()
    figure.add_trace(
        go.Bar(
            name="bookings",
            y=list(totals.index),
            x=totals["bookings"],
            orientation="h",
            text=attainment,
            textposition="auto",
        )
    )
    figure.add_trace(
        go.Scatter(
            name="quota",
            y=list(totals.index),
            x=totals["quota"],
            mode="markers",
            marker={"symbol": "line-ns-open", "size": 18},
        )
    )
    quarter = f"{start.year} Q{(start.month - 1) // 3 + 1}"
    figure.update_layout(title=f"Rep leaderboard against quota, {quarter}", height=max(420, 28 * len(totals)))
    return figure


def draw_pipeline_waterfall(frame: pd.DataFrame, as_of: date) -> go.Figure:
    go = _figure()
    row = frame.sort_values("period_start").iloc[-1]
    steps = [
        ("open at start", "open_value_at_start", 1),
        ("created", "created_value", 1),
        ("amount up", "amount_increases", 1),
        ("amount down", "amount_decreases", -1),
        ("won", "won_value", -1),
        ("lost", "lost_value", -1),
        ("reopened", "reopened_value", 1),
    ]
    labels = [label for label, _, _ in steps] + ["open at end"]
    values = [sign * float(row[column]) for _, column, sign in steps] + [float(row["open_value_at_end"])]
    measures = ["absolute"] + ["relative"] * (len(steps) - 1) + ["total"]
    figure = go.Figure(go.Waterfall(x=labels, y=values, measure=measures))
    figure.update_layout(title=f"Pipeline waterfall, month starting {row['period_start']:%Y-%m-%d}", height=480)
    return figure


def draw_mrr_bridge(frame: pd.DataFrame, as_of: date) -> go.Figure:
    go = _figure()
    row = frame.sort_values("period_start").iloc[-1]
    parts = [
        ("starting MRR", "starting_mrr", 1),
        ("new", "new_mrr", 1),
        ("expansion", "expansion_mrr", 1),
        ("reactivated", "reactivated_mrr", 1),
        ("contraction", "contraction_mrr", -1),
        ("churned", "churned_mrr", -1),
    ]
    values = [sign * abs(float(row[column])) for _, column, sign in parts] + [float(row["ending_mrr"])]
    measures = ["absolute"] + ["relative"] * (len(parts) - 1) + ["total"]
    figure = go.Figure(go.Waterfall(x=[label for label, _, _ in parts] + ["ending MRR"], y=values, measure=measures))
    figure.update_layout(title=f"MRR bridge, month starting {row['period_start']:%Y-%m-%d}", height=480)
    return figure


def draw_nps(frame: pd.DataFrame, as_of: date) -> go.Figure:
    go = _figure()
    data = frame.sort_values("period_start")
    figure = go.Figure(go.Scatter(x=data["period_start"], y=data["nps"], mode="lines+markers", name="NPS"))
    figure.update_layout(title="NPS over time", yaxis={"range": [-100, 100], "title": "NPS"}, height=420)
    return figure


# The views, in page order. To point a view at a mart: set `mart="<name>"`; to rename what it reads, edit
# `columns` (and its draw function). A view whose mart is absent shows "not built yet" with what it needs.
VIEWS: tuple[View, ...] = (
    View(
        key="funnel",
        title="Funnel by channel",
        kpis=("F1",),
        columns=("channel", "leads", "mqls", "sqls", "opportunities", "customers"),
        draw=draw_funnel,
        note="Leads of every cohort month, by how far they got by the as-of date.",
    ),
    View(
        key="cac_roi",
        title="CAC and ROI per campaign",
        kpis=("M1", "M3"),
        columns=("campaign_name", "spend", "new_customers", "cac", "roi"),
        draw=draw_cac_roi,
        mart="kpi_campaign_cac",
        note="Campaigns without a new customer have no CAC (null, not zero).",
    ),
    View(
        key="retention",
        title="Cohort retention",
        kpis=("C1",),
        columns=("cohort_month", "months_since_start", "cohort_size", "active_customers"),
        draw=draw_retention,
        note="Share of each subscription cohort's customers still active n months after the start.",
    ),
    View(
        key="leaderboard",
        title="Rep leaderboard against quota",
        kpis=("S3", "S4"),
        columns=("rep_name", "month", "bookings", "quota"),
        draw=draw_leaderboard,
        note="Bookings and quota summed over the last full quarter up to the as-of date.",
    ),
    View(
        key="pipeline_waterfall",
        title="Pipeline waterfall",
        kpis=("S8",),
        columns=(
            "period_start",
            "open_value_at_start",
            "created_value",
            "amount_increases",
            "amount_decreases",
            "won_value",
            "lost_value",
            "reopened_value",
            "open_value_at_end",
        ),  # fmt: skip
        draw=draw_pipeline_waterfall,
        mart="kpi_pipeline_waterfall",
        where="period_type = 'month'",
        note="Open pipeline value from the start to the end of the latest month: the movements add up exactly.",
    ),
    View(
        key="mrr_bridge",
        title="MRR bridge",
        kpis=("C4",),
        columns=(
            "period_start",
            "starting_mrr",
            "new_mrr",
            "expansion_mrr",
            "contraction_mrr",
            "churned_mrr",
            "reactivated_mrr",
            "ending_mrr",
        ),  # fmt: skip
        draw=draw_mrr_bridge,
        mart="kpi_mrr_movements",
        where="period_type = 'month' and breakdown = 'total'",
        note="Starting MRR plus the month's movements equals the ending MRR (the company, the latest month).",
    ),
    View(
        key="nps",
        title="NPS over time",
        kpis=("C7",),
        columns=("period_start", "nps"),
        draw=draw_nps,
        mart="kpi_customer_satisfaction",
        where="survey_type = 'nps' and period_type = 'quarter' and breakdown = 'total'",
        note="% promoters (9-10) minus % detractors (0-6) among the customers who answered, per quarter.",
    ),
)


# --- the page --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rendered:
    view: View
    mart: str | None
    html: str
    drawn: bool  # False: not built yet (a note instead of a chart)


_STATUS_SCRIPT = """
<script>
window.__reportErrors = [];
window.addEventListener("error", function (event) {
  var where = (event.filename || "") + ":" + (event.lineno || 0);
  window.__reportErrors.push(String(event.message || event.type) + " @ " + where);
});
window.addEventListener("unhandledrejection", function (event) {
  window.__reportErrors.push("unhandled rejection: " + String(event.reason));
});
</script>
"""

_FINISH_SCRIPT = """
<script>
(function () {
  function report() {
    var expected = Array.prototype.map.call(document.querySelectorAll("[data-view-chart]"), function (el) {
      return el.getAttribute("data-view-chart");
    });
    var drawn = expected.filter(function (key) {
      var root = document.querySelector('[data-view-chart="' + key + '"] .js-plotly-plot');
      return !!(root && root.querySelector("svg.main-svg") && root._fullLayout);
    });
    var status = {expected: expected, drawn: drawn, errors: window.__reportErrors, plotly: typeof Plotly};
    document.getElementById("report-status").textContent = JSON.stringify(status);
    document.body.setAttribute("data-report-ready", "true");
  }
  if (document.readyState === "complete") { setTimeout(report, 0); }
  else { window.addEventListener("load", function () { setTimeout(report, 0); }); }
})();
</script>
"""

_STYLE = """
body { font-family: -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif;
       margin: 24px auto; max-width: 1200px; color: #1f2933; background: #fff; }
h1 { font-size: 26px; margin-bottom: 4px; }
.meta { color: #52606d; margin-top: 0; }
section.view { border-top: 1px solid #d9e2ec; padding: 12px 0 20px; }
section.view h2 { font-size: 20px; margin: 8px 0; }
.definition { font-size: 13px; color: #3e4c59; background: #f5f7fa; padding: 8px 12px; border-radius: 4px; }
.definition dt { font-weight: 600; }
.pending { background: #fffbea; border: 1px dashed #f0b429; padding: 12px; border-radius: 4px; }
#report-status { display: none; }
nav a { margin-right: 12px; }
"""


def _definitions(view: View, mart: Mart | None) -> str:
    catalogue = {kpi.id: kpi for kpi in load_catalogue()}
    items = [
        f"<dt>{html.escape(kpi_id)} {html.escape(catalogue[kpi_id].name)}</dt>"
        f"<dd>{html.escape(catalogue[kpi_id].definition)}</dd>"
        for kpi_id in view.kpis
        if kpi_id in catalogue
    ]
    if mart is not None:
        for name in view.columns:
            column = mart.column(name)
            if column is not None and column.description and (column.kpis or column.measure):
                items.append(
                    f"<dt>{html.escape(mart.name)}.{html.escape(name)}</dt><dd>{html.escape(column.description)}</dd>"
                )
    return f'<dl class="definition">{"".join(items)}</dl>'


def as_of_date(connection: duckdb.DuckDBPyConnection) -> date:
    """The as-of date: the last day of the date table (the date spine ends at var as_of_date)."""
    row = connection.execute("select max(date_day) from marts.dim_dates").fetchone()
    if row is None or row[0] is None:
        raise ValueError("marts.dim_dates is empty: build the warehouse first (crm-kpi run)")
    value = row[0]
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def render_views(db_path: Path, marts: Sequence[Mart], views: Sequence[View] = VIEWS) -> tuple[date, list[Rendered]]:
    rendered = []
    with duckdb.connect(str(db_path), read_only=True) as connection:
        as_of = as_of_date(connection)
        listed = "select table_name from information_schema.tables where table_schema = 'marts'"
        tables = {row[0] for row in connection.execute(listed).fetchall()}
        for view in views:
            mart = resolve(view, marts)
            if mart is None or mart.name not in tables:
                columns_needed = f"with the columns {', '.join(view.columns)}"
                answering = f"a mart answering {', '.join(view.kpis)}"
                where = f"the mart {view.mart} {columns_needed}" if view.mart else f"{answering} {columns_needed}"
                body = (
                    f'<div class="pending" data-view-pending="{view.key}"><strong>Not built yet.</strong> '
                    f"This view draws once {html.escape(where)} is in the warehouse.</div>"
                )
                rendered.append(Rendered(view, None, body + _definitions(view, None), drawn=False))
                continue
            columns = ", ".join(f'"{name}"' for name in view.columns)
            where = f" where {view.where}" if view.where else ""
            frame = connection.execute(f'select {columns} from marts."{mart.name}"{where}').df()
            figure = view.draw(frame, as_of)
            figure.update_layout(template="plotly_white", margin={"t": 60, "l": 60, "r": 30, "b": 60})
            chart = figure.to_html(full_html=False, include_plotlyjs=False, div_id=f"chart-{view.key}")
            source = f'<p class="meta">From <code>marts.{html.escape(mart.name)}</code>. {html.escape(view.note)}</p>'
            body = f'<div data-view-chart="{view.key}">{chart}</div>{source}'
            rendered.append(Rendered(view, mart.name, body + _definitions(view, mart), drawn=True))
    return as_of, rendered


def page(as_of: date, rendered: Sequence[Rendered], plotly_js: str) -> str:
    nav = " ".join(f'<a href="#{r.view.key}">{html.escape(r.view.title)}</a>' for r in rendered)
    sections = "\n".join(
        f'<section class="view" id="{r.view.key}"><h2>{html.escape(r.view.title)}</h2>'
        f'<p class="meta">{", ".join(r.view.kpis)} &middot; as of {as_of.isoformat()}</p>{r.html}</section>'
        for r in rendered
    )
    drawn = sum(r.drawn for r in rendered)
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>CRM KPI report, as of {as_of.isoformat()}</title>
<style>{_STYLE}</style>
{_STATUS_SCRIPT}
<script>{plotly_js}</script>
</head>
<body>
<h1>CRM KPI report</h1>
<p class="meta">As of {as_of.isoformat()} &middot; {drawn} of {len(rendered)} views built &middot; every number from the
warehouse's marts; each chart states its KPI's definition.</p>
<nav>{nav}</nav>
{sections}
<pre id="report-status"></pre>
{_FINISH_SCRIPT}
</body>
</html>
"""


def write_report(db_path: Path, marts: Sequence[Mart], out_path: Path, views: Sequence[View] = VIEWS) -> list[Rendered]:
    """Write the page; returns what each view became (drawn, or a 'not built yet' note)."""
    from plotly.offline import get_plotlyjs

    as_of, rendered = render_views(db_path, marts, views)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    # "</script" inside the inlined library would end its script element early.
    plotly_js = get_plotlyjs().replace("</script", "<\\/script")
    out_path.write_text(page(as_of, rendered, plotly_js), encoding="utf-8")
    return rendered


def marts_read(marts: Sequence[Mart], views: Sequence[View] = VIEWS) -> list[str]:
    """The marts the report reads (its views whose mart exists), for the dbt exposure."""
    return sorted({mart.name for view in views if (mart := resolve(view, marts)) is not None})


def status_of(dom: str) -> Mapping[str, Any]:
    """The JSON status the page writes into `<pre id="report-status">` once it has rendered."""
    start = dom.index('id="report-status">') + len('id="report-status">')
    return dict(json.loads(html.unescape(dom[start : dom.index("</pre>", start)])))


# --- headless Chromium (the test's browser, and the README's screenshot) ----------------------------------

CHROMIUM_BINARIES = ("chromium-headless-shell", "chromium", "chromium-browser", "google-chrome", "chrome")
CHROMIUM_FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--hide-scrollbars", "--virtual-time-budget=30000",
)  # fmt: skip


def chromium_binary() -> str | None:
    """Debian's `chromium-headless-shell` (apt-get install chromium-headless-shell), or another Chromium."""
    import shutil

    return next((found for name in CHROMIUM_BINARIES if (found := shutil.which(name))), None)


def _chromium(arguments: Sequence[str], timeout: float) -> str:
    import subprocess
    import tempfile

    binary = chromium_binary()
    if binary is None:
        raise FileNotFoundError("no Chromium: apt-get install chromium-headless-shell")
    with tempfile.TemporaryDirectory(prefix="crm_kpi_chromium_") as profile:
        command = [binary, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *arguments]
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"chromium exited {done.returncode}: {done.stderr[-2000:]}")
    return done.stdout


def render_dom(html_path: Path, timeout: float = 180) -> str:
    """The page's DOM after its scripts ran (`--dump-dom`, with a virtual time budget for the charts)."""
    return _chromium(["--dump-dom", html_path.resolve().as_uri()], timeout)


def screenshot(html_path: Path, png_path: Path, width: int = 1200, height: int = 5800, scale: float = 0.5) -> Path:
    """A PNG of the page's top `height` CSS pixels, scaled down by `scale` (a small file for the README)."""
    png_path.parent.mkdir(parents=True, exist_ok=True)
    arguments = [f"--window-size={width},{height}", f"--force-device-scale-factor={scale}"]
    _chromium([*arguments, f"--screenshot={png_path.resolve()}", html_path.resolve().as_uri()], timeout=180)
    return png_path
