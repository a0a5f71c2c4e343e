"""`crm-kpi run`: check the export, build a candidate warehouse, test and validate it, publish it, summarise."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from crm_kpi.commands import add_command, add_db_option, db_path
from crm_kpi.console import say
from crm_kpi.paths import demo_dir

RUN_LOG = "crm-kpi-run.log"  # dbt's console output of the last run, in dbt's logs/ folder


def add_parser(subparsers: Any) -> None:
    parser = add_command(
        subparsers,
        "run",
        "check the export, build, test and validate a candidate warehouse, publish it, summarise",
        "Check the raw export against the raw contract, build a candidate warehouse beside the published one "
        "(dbt build: every model and data test), generate the dbt docs, run the Great Expectations suites and "
        "the publish guard, then publish the candidate in one rename and print a summary. Nothing is published "
        "unless every step passed.",
    )
    parser.add_argument(
        "--raw-path",
        metavar="FOLDER",
        help="folder of raw CSV/Parquet files named as in the raw contract (default: the demo set seeds/demo, "
        "read in place)",
    )
    parser.add_argument("--format", choices=["csv", "parquet"], default="csv", help="format of the raw files")
    add_db_option(parser, "the DuckDB file to build and publish")
    parser.add_argument("--as-of", metavar="YYYY-MM-DD", help="reporting date (default: the last date in the data)")
    parser.add_argument("--full-refresh", action="store_true", help="rebuild the incremental event facts from scratch")
    parser.add_argument(
        "--accept-changes",
        action="store_true",
        help="publish even when the publish guard finds a quarantine share, or a change of a mart's rows or of a "
        "headline figure against the published build, past its threshold (the vars publish_max_*)",
    )
    parser.add_argument(
        "--unit-tests",
        action="store_true",
        help="run the dbt unit tests in the build too (CI runs them; on fixed rows, they prove the code, not the data)",
    )
    parser.add_argument(
        "--target",
        choices=["duckdb", "postgres", "spark"],
        default="duckdb",
        help="engine (profiles.yml target); postgres and spark bulk-load the raw data first",
    )
    parser.add_argument(
        "--verbose",
        action="store_true",
        help=f"show dbt's output (a line per model and test) instead of writing it to logs/{RUN_LOG}",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from crm_kpi import job, publish, summary
    from crm_kpi.dbt_invoke import DbtFailed
    from crm_kpi.raw_load import LoadFailed
    from crm_kpi.settings import BuildSettings

    try:
        settings = BuildSettings(
            db_path=db_path(args),
            raw_path=Path(args.raw_path) if args.raw_path else demo_dir(),
            raw_format=args.format,
            target=args.target,
            as_of_date=args.as_of,
            full_refresh=args.full_refresh,
            unit_tests=args.unit_tests,
            accept_changes=args.accept_changes,
        )
        if not args.verbose:
            settings.dbt_log = settings.logs_dir / RUN_LOG
            settings.dbt_log.parent.mkdir(parents=True, exist_ok=True)
            settings.dbt_log.write_text("", encoding="utf-8")  # this run's output only
        result = job.run(settings, say)
    except (ValueError, job.JobFailed, publish.RunLocked, publish.PublishError, DbtFailed, LoadFailed) as error:
        say(str(error))
        return 1
    summary.print_summary(settings, result)
    return 0
