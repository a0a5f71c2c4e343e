"""`crm-kpi publish`: publish a validated build that `run` had to keep aside (a reader held the file: Windows)."""

from __future__ import annotations

import argparse
from typing import Any

from crm_kpi.commands import add_command, add_db_option, db_path
from crm_kpi.console import say


def add_parser(subparsers: Any) -> None:
    parser = add_command(
        subparsers,
        "publish",
        "publish the validated DuckDB build `crm-kpi run` kept aside (Windows, readers open)",
        "Publish a validated DuckDB build that `crm-kpi run` kept aside: the platform refused to replace the "
        "published file while a reader held it (Windows). Close the readers, then run this.",
    )
    add_db_option(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from crm_kpi import publish

    published = db_path(args)
    try:
        with publish.duckdb_run_lock(published):
            publication = publish.publish_duckdb(published)
    except (publish.RunLocked, publish.PublishError) as error:
        say(str(error))
        return 1
    say(f"published {published} in {publication.publish_seconds:.3f} s")
    return 0
