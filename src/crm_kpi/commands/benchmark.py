"""`crm-kpi benchmark`: the argparse wiring of crm_kpi.benchmark (time the build of a data set size against the
hand-written floor; print and save the figures)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from crm_kpi.commands import add_command
from crm_kpi.console import say


def add_parser(subparsers: Any) -> None:
    parser = add_command(subparsers, "benchmark", "time the build of a data set size against the hand-written floor")
    parser.add_argument("size", nargs="?", default="S", help="demo (3k leads), S (1M leads) or M (10M leads)")
    parser.add_argument("--leads", type=int, help="any number of leads instead of a named size (default: the size's)")
    parser.add_argument("--memory-limit", default="8GB", help="DuckDB memory_limit for every step")
    parser.add_argument("--without-tests", action="store_true", help="skip step 3, dbt build with every test")
    parser.add_argument(
        "--workdir", metavar="FOLDER", help="where data and databases go (default: warehouse/benchmark)"
    )
    parser.add_argument(
        "--json", metavar="FILE", help="write the figures here (default: <workdir>/<size>/results.json)"
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from crm_kpi.benchmark import SIZES, format_table, run_benchmark
    from crm_kpi.dbt_invoke import DbtFailed

    size = args.size if args.leads is None else f"{args.leads}_leads"
    if size not in SIZES and args.leads is None:
        say(f"unknown size {size!r}: one of {', '.join(SIZES)}, or --leads N")
        return 2
    try:
        result = run_benchmark(
            size,
            leads=args.leads,
            workdir=Path(args.workdir) if args.workdir else None,
            memory_limit=args.memory_limit,
            json_path=Path(args.json) if args.json else None,
            say=say,
            with_tests=not args.without_tests,
        )
    except DbtFailed as error:
        say(str(error))
        return 1
    print(format_table(result), flush=True)
    return 0
