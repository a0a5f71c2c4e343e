"""The offline KPI report: one self-contained HTML page (plotly.js inlined, no network) with the views a sales
and marketing team opens first, read from the built DuckDB warehouse: `crm-kpi report`.

Each view is a `View` spec (`crm_kpi.report_views`, with the draw functions): the catalogue ids it shows, the
columns it reads, the one grain of its mart it reads, and the mart that holds them. A spec whose `mart` is None
takes the first mart of the manifest that answers one of its KPI ids and has all of its columns, so a view whose
mart is not built yet is drawn as a visible "not built yet" note naming what it needs, and draws once such a
mart exists (set `mart` when the mart's name is known). Every chart carries its KPI's definition (the
catalogue's, and the dbt descriptions of the columns it reads), the as-of date and the reporting currency.

The page records script errors (window `error` events) and, once every chart has rendered, writes a JSON
status into `<pre id="report-status">`: the views drawn (a plotly root with its SVG), the errors, and what each
drawn chart's SVG says (its title, subtitle, axis titles and tick labels). The test renders it in headless
Chromium and reads that status from the DOM.
"""

from __future__ import annotations

import dataclasses
import html
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import duckdb

from crm_kpi.catalogue import load_catalogue
from crm_kpi.manifest import Mart
from crm_kpi.report_views import VIEWS, Context, View, grain_predicate, last_full_quarter

__all__ = ["VIEWS", "Context", "Rendered", "View", "last_full_quarter", "render_views", "resolve", "write_report"]


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


# --- the page --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rendered:
    view: View
    mart: str | None
    html: str
    drawn: bool  # False: not built yet (a note instead of a chart)
    figure: Mapping[str, Any] | None = None  # the plotly figure as the page holds it (JSON), when drawn


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
    var charts = {};
    drawn.forEach(function (key) {
      var root = document.querySelector('[data-view-chart="' + key + '"] .js-plotly-plot');
      var texts = function (selector) {
        return Array.prototype.map.call(root.querySelectorAll(selector), function (el) { return el.textContent; });
      };
      var axes = {};
      Array.prototype.forEach.call(root.querySelectorAll("text"), function (el) {
        var name = el.getAttribute("class") || "";
        if (/^[xy][0-9]*title$/.test(name)) { axes[name.replace("title", "")] = el.textContent; }
      });
      charts[key] = {title: texts("text.gtitle").join(" "), subtitle: texts("text.gtitle-subtitle").join(" "),
                     axes: axes, ticks: texts("g.xtick text, g.ytick text")};
    });
    var status = {expected: expected, drawn: drawn, errors: window.__reportErrors, plotly: typeof Plotly,
                  charts: charts};
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
    """The as-of date: the last day of the date table not after it (the table runs on to the year's end)."""
    row = connection.execute("select max(date_day) from marts.dim_dates where not is_after_as_of").fetchone()
    if row is None or row[0] is None:
        raise ValueError("marts.dim_dates is empty: build the warehouse first (crm-kpi run)")
    value = row[0]
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def render_views(
    db_path: Path, marts: Sequence[Mart], views: Sequence[View] = VIEWS, currency: str = "USD"
) -> tuple[date, list[Rendered]]:
    rendered = []
    with duckdb.connect(str(db_path), read_only=True) as connection:
        context = Context(as_of_date(connection), currency)
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
            predicate = grain_predicate(view)
            where = f" where {predicate}" if predicate else ""
            frame = connection.execute(f'select {columns} from marts."{mart.name}"{where}').df()
            figure = view.draw(frame, dataclasses.replace(context, mart=mart))
            figure.update_layout(template="plotly_white")
            chart = figure.to_html(full_html=False, include_plotlyjs=False, div_id=f"chart-{view.key}")
            rows = ", ".join(f"{column} = {value}" for column, value in view.grain.items())
            if view.switch:
                rows = ", ".join(filter(None, [rows, f"one {view.switch} at a time"]))
            source = (
                f'<p class="meta">From <code>marts.{html.escape(mart.name)}</code>'
                + (f" ({html.escape(rows)})" if rows else "")
                + f". {html.escape(view.note)}</p>"
            )
            body = f'<div data-view-chart="{view.key}">{chart}</div>{source}'
            rendered.append(
                Rendered(
                    view, mart.name, body + _definitions(view, mart), drawn=True, figure=json.loads(figure.to_json())
                )
            )
    return context.as_of, rendered


def page(as_of: date, rendered: Sequence[Rendered], plotly_js: str, currency: str = "USD") -> str:
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
<p class="meta">As of {as_of.isoformat()} &middot; {drawn} of {len(rendered)} views built &middot; money in
{html.escape(currency)} &middot; every number from the warehouse's marts, one breakdown and one attribution rule
at a time; each chart states its KPI's definition.</p>
<nav>{nav}</nav>
{sections}
<pre id="report-status"></pre>
{_FINISH_SCRIPT}
</body>
</html>
"""


def write_report(
    db_path: Path, marts: Sequence[Mart], out_path: Path, views: Sequence[View] = VIEWS, currency: str = "USD"
) -> list[Rendered]:
    """Write the page; returns what each view became (drawn, or a 'not built yet' note). `currency` is the
    warehouse's reporting currency (the project var `reporting_currency`), named on every money axis."""
    from plotly.offline import get_plotlyjs

    as_of, rendered = render_views(db_path, marts, views, currency)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    # "</script" inside the inlined library would end its script element early.
    plotly_js = get_plotlyjs().replace("</script", "<\\/script")
    out_path.write_text(page(as_of, rendered, plotly_js, currency), encoding="utf-8")
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


def screenshot(html_path: Path, png_path: Path, width: int = 1200, height: int = 7000, scale: float = 0.75) -> Path:
    """A PNG of the page's top `height` CSS pixels (the demo page is about 7000), scaled by `scale` (for the README;
    at 0.75 the charts' labels stay legible)."""
    png_path.parent.mkdir(parents=True, exist_ok=True)
    arguments = [f"--window-size={width},{height}", f"--force-device-scale-factor={scale}"]
    _chromium([*arguments, f"--screenshot={png_path.resolve()}", html_path.resolve().as_uri()], timeout=180)
    return png_path
