"""`crm-kpi report`: the offline KPI report (one self-contained HTML page) from the built DuckDB warehouse."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from crm_kpi.commands import add_command, add_db_option, db_path, parsed_marts
from crm_kpi.console import say
from crm_kpi.paths import project_root


def add_parser(subparsers: Any) -> None:
    parser = add_command(subparsers, "report", "write the offline KPI report (one self-contained HTML page)")
    add_db_option(parser, "the DuckDB file to read")
    parser.add_argument("--out", metavar="FILE", help="HTML file to write (default: warehouse/report/kpi_report.html)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from crm_kpi import exposures, report

    root = project_root()
    database = db_path(args)
    if not database.is_file():
        say(f"no warehouse at {database}: run `crm-kpi run` first, or name one with --db")
        return 1
    marts = parsed_marts()
    if marts is None:
        return 1
    out = Path(args.out).resolve() if args.out else root / "warehouse" / "report" / "kpi_report.html"
    currency = exposures.project_var(root, "reporting_currency", "USD").upper()
    rendered = report.write_report(database, marts, out, currency=currency)
    for item in rendered:
        where = f"from {item.mart}" if item.drawn else "not built yet (a note in the page)"
        say(f"{item.view.title}: {where}")
    say(f"wrote {out} ({out.stat().st_size / 1e6:.1f} MB, self-contained: open it in any browser, offline)")
    return 0
