"""`crm-kpi catalogue`: the KPI catalogue index, each KPI with its mart, columns, grain and tests, or "not built
yet"; optionally the dbt docs front page and a markdown table."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from crm_kpi.commands import add_command, parsed_marts
from crm_kpi.console import say, show
from crm_kpi.paths import project_root


def add_parser(subparsers: Any) -> None:
    parser = add_command(subparsers, "catalogue", "the KPI catalogue index: what answers each KPI, and its tests")
    parser.add_argument("--docs", action="store_true", help="also write the dbt docs front page (__overview__)")
    parser.add_argument(
        "--markdown",
        metavar="FILE",
        help="also write the index as a markdown table to this file (default: none written)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from crm_kpi import catalogue

    marts = parsed_marts()
    if marts is None:
        return 1
    entries = catalogue.index(marts)
    show(catalogue.table(entries))
    if args.docs:
        say(f"wrote {catalogue.write_overview(project_root(), entries)} (the dbt docs front page)")
    if args.markdown:
        Path(args.markdown).write_text(catalogue.format_markdown(entries), encoding="utf-8")
        say(f"wrote {args.markdown}")
    issues = catalogue.problems(marts)
    for issue in issues:
        say(issue)
    return 1 if issues else 0
