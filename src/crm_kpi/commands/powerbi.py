"""`crm-kpi powerbi`: a Power BI Project (.pbip, semantic model in TMDL) generated from the dbt manifest."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from crm_kpi.commands import DEFAULT_DB, add_command, parsed_marts
from crm_kpi.console import say
from crm_kpi.paths import project_root


def add_parser(subparsers: Any) -> None:
    parser = add_command(
        subparsers,
        "powerbi",
        "write a Power BI Project (TMDL) generated from the dbt manifest",
        "Write a Power BI Project (.pbip, its semantic model in TMDL) from the dbt manifest: a table per mart, "
        "relationships from the relationships tests, a measure per KPI column. The connection is a parameter "
        "(Transform data > Edit parameters in Power BI Desktop); the options below set its starting values.",
    )
    parser.add_argument("--out", metavar="FOLDER", help="output folder (default: warehouse/powerbi)")
    parser.add_argument("--server", default="localhost:5432", help="PostgreSQL host:port, the parameter's value")
    parser.add_argument("--database", default="crm_kpi", help="PostgreSQL database, the parameter's value")
    parser.add_argument(
        "--duckdb-file",
        metavar="FILE",
        help=f"DuckDB file of the DuckDB connection, made absolute (default: the text {DEFAULT_DB}, relative, "
        "as the project lays it out: set the parameter to the file's full path in Power BI)",
    )
    parser.add_argument(
        "--render-exposures",
        action="store_true",
        help="only rewrite models/exposures.yml (the report and the Power BI model as dbt exposures)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from crm_kpi import exposures, powerbi

    root = project_root()
    typed = parsed_marts()
    if typed is None:
        return 1
    if args.render_exposures:
        say(f"wrote {exposures.write_exposures(root, typed)}")
        return 0
    model = powerbi.build_model(typed, currency=exposures.project_var(root, "reporting_currency", "USD"))
    out = Path(args.out).resolve() if args.out else root / "warehouse" / "powerbi"
    out.mkdir(parents=True, exist_ok=True)
    # The default stays relative (the project's own layout), never this machine's absolute path.
    duckdb_file = str(Path(args.duckdb_file).resolve()) if args.duckdb_file else DEFAULT_DB
    pbip = powerbi.write_project(
        model, out, postgres_server=args.server, postgres_database=args.database, duckdb_file=duckdb_file
    )
    active = sum(relationship.active for relationship in model.relationships)
    say(
        f"wrote {pbip}: {len(model.tables)} tables, {len(model.relationships)} relationships ({active} active), "
        f"{len(model.measures)} measures"
    )
    for skipped in model.skipped:
        say(f"no measure for {skipped.table}.{skipped.column}: {skipped.reason}")
    say("open it in Power BI Desktop (File > Open > the .pbip); Transform data > Edit parameters sets the connection")
    return 0
