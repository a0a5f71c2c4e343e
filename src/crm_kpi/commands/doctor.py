"""`crm-kpi doctor`: whether the published DuckDB file opens as published; a left-over WAL explained, and with
--repair moved aside (kept), under the run's lock."""

from __future__ import annotations

import argparse
from typing import Any

from crm_kpi.commands import add_command, add_db_option, db_path
from crm_kpi.console import say


def add_parser(subparsers: Any) -> None:
    parser = add_command(
        subparsers,
        "doctor",
        "check that the published DuckDB file opens; explain (and --repair) a left-over WAL beside it",
    )
    add_db_option(parser)
    parser.add_argument("--repair", action="store_true", help="move a WAL that no process holds aside (kept)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from crm_kpi import publish

    published = db_path(args)
    try:
        with publish.duckdb_run_lock(published):
            healthy, found = publish.doctor(published, repair=args.repair)
    except publish.RunLocked as error:
        say(str(error))
        return 1
    for line in found:
        say(line)
    return 0 if healthy else 1
