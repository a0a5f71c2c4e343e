"""`crm-kpi validate`: the Great Expectations suites on a built warehouse's KPI marts."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from crm_kpi.commands import add_command, add_db_option, db_path
from crm_kpi.console import say
from crm_kpi.paths import project_root


def add_parser(subparsers: Any) -> None:
    parser = add_command(subparsers, "validate", "run the Great Expectations suites on a built warehouse")
    add_db_option(parser, "the DuckDB file to validate")
    parser.add_argument("--docs", metavar="FOLDER", help="folder for the HTML data docs (default: gx_docs beside --db)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from crm_kpi import manifest
    from crm_kpi.expectations import ExpectationsFailed, run_expectations

    database = db_path(args)
    if not database.is_file():
        say(f"no warehouse at {database}: run `crm-kpi run` first, or name one with --db")
        return 1
    target = project_root() / "target"
    if not manifest.manifest_path(target).is_file():
        say(f"no dbt manifest in {target}: run `crm-kpi run` (or `dbt parse`) first")
        return 1
    marts = manifest.built_kpi_marts(target)
    try:
        results = run_expectations(database, Path(args.docs) if args.docs else database.parent / "gx_docs", marts)
    except ExpectationsFailed as error:
        say(str(error))
        return 1
    for result in results:
        say(f"{result.mart}: {result.evaluated} expectations passed")
    return 0
