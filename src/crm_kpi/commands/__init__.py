"""The subcommands of `crm-kpi`, one module each: `add_parser(subparsers)` declares its options (each with its
help and its default), `run(args)` does the work and returns the exit code. crm_kpi.cli wires them."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from crm_kpi.paths import project_root

DEFAULT_DB = "warehouse/crm_kpi.duckdb"


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Every option's default shown in its help, unless the help states it or there is none to state."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        if action.default in (None, False, argparse.SUPPRESS) or "default" in text:
            return text
        return super()._get_help_string(action) or text


def add_command(subparsers: Any, name: str, summary: str, description: str | None = None) -> argparse.ArgumentParser:
    """A subcommand with the house's help formatter: `summary` in `crm-kpi --help`, `description` in its own."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        name, help=summary, description=description or summary, formatter_class=HelpFormatter
    )
    return parser


def add_db_option(parser: argparse.ArgumentParser, what: str = "the published DuckDB file") -> None:
    parser.add_argument("--db", metavar="FILE", help=f"{what} (default: {DEFAULT_DB} in the project folder)")


def db_path(args: argparse.Namespace) -> Path:
    """The --db option (relative to the working folder), else the project's warehouse."""
    return Path(args.db).resolve() if args.db else project_root() / DEFAULT_DB


def parsed_marts() -> list[Any] | None:
    """`dbt parse` into the project's target/, then every mart the manifest declares (None, said, if it failed)."""
    from crm_kpi import manifest
    from crm_kpi.console import say
    from crm_kpi.dbt_invoke import DbtFailed, run_dbt
    from crm_kpi.settings import BuildSettings

    settings = BuildSettings(db_path=project_root() / DEFAULT_DB, quiet=True)
    try:
        run_dbt(settings, ["parse"])
    except DbtFailed as error:
        say(str(error))
        return None
    return manifest.built_marts(settings.target_dir)
