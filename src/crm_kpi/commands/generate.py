"""`crm-kpi generate`: write a deterministic raw CRM data set (the committed demo set by default)."""

from __future__ import annotations

import argparse
import time
from datetime import date
from pathlib import Path
from typing import Any

from crm_kpi.commands import add_command
from crm_kpi.console import say, show
from crm_kpi.paths import project_root


def add_parser(subparsers: Any) -> None:
    parser = add_command(
        subparsers,
        "generate",
        "write a deterministic raw CRM data set",
        "Write a deterministic raw CRM data set, one file per table of the raw contract: the same options give "
        "the same rows. With the defaults it rewrites the committed demo set.",
    )
    parser.add_argument("--out", metavar="FOLDER", help="output folder (default: seeds/demo, the committed demo set)")
    parser.add_argument("--leads", type=int, default=3000, help="number of leads; every other table scales with it")
    parser.add_argument("--start", default="2024-11-01", metavar="YYYY-MM-DD", help="first day of the data")
    parser.add_argument("--end", default="2026-10-31", metavar="YYYY-MM-DD", help="last day of the data")
    parser.add_argument("--format", choices=["csv", "parquet"], default="csv", help="format of the files")
    parser.add_argument("--seed", type=int, default=42, help="random seed (the same seed gives the same rows)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from rich.table import Table

    from crm_kpi.generator import generate

    out = Path(args.out) if args.out else project_root() / "seeds" / "demo"
    try:
        start, end = date.fromisoformat(args.start), date.fromisoformat(args.end)
    except ValueError as error:
        say(f"{error}: give --start and --end as YYYY-MM-DD")
        return 2
    started = time.perf_counter()
    rows = generate(out, leads=args.leads, start=start, end=end, fmt=args.format, seed=args.seed, progress=say)
    table = Table(box=None, padding=(0, 2))
    table.add_column("table")
    table.add_column("rows", justify="right")
    for name, count in rows.items():
        table.add_row(name, str(count))
    show(table)
    say(f"wrote {sum(rows.values())} rows to {out} in {time.perf_counter() - started:.1f} s")
    return 0
