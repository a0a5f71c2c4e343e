"""The performance floor: the five headline KPI tables from one hand-written DuckDB script (floor.sql).

The script reads the raw files in place and computes `floor.<mart>` with the same columns and numbers as
`marts.<mart>` of a dbt build, without the rest of the warehouse (quarantine report, facts, dimensions,
tests, docs). A benchmark compares `dbt build` with it: what DuckDB itself can do on the same input.
"""

from __future__ import annotations

import os
import re
from datetime import date
from importlib import resources
from pathlib import Path

import duckdb

from crm_kpi.contract import TABLES_BY_NAME
from crm_kpi.dbt_yaml import CSV_OPTIONS

FLOOR_TABLES: tuple[str, ...] = (
    "kpi_funnel_conversion",
    "kpi_campaign_cac",
    "kpi_campaign_cac_monthly",
    "kpi_churn_by_cohort",
    "kpi_revenue_per_rep",
)
FLOOR_SCHEMA = "floor"
RAW_FORMATS: tuple[str, ...] = ("csv", "parquet")
_CATALOG = "floor_warehouse"

_READER_PLACEHOLDER = re.compile(r"\{reader:([a-z_]+)\}")
_ANY_PLACEHOLDER = re.compile(r"\{(?:reader:[a-z_]+|as_of|reporting_currency)\}")


def string_literal(text: str) -> str:
    """A SQL string literal (quotes doubled)."""
    return "'" + text.replace("'", "''") + "'"


def floor_script() -> str:
    """The script with its placeholders: {reader:<table>}, {as_of}, {reporting_currency}."""
    return resources.files("crm_kpi").joinpath("floor.sql").read_text(encoding="utf-8")


def raw_reader(raw_path: Path, raw_format: str, table: str) -> str:
    """The relation that reads one raw table as text, as the dbt sources do; empty if an optional file is absent."""
    if raw_format not in RAW_FORMATS:
        raise ValueError(f"raw_format must be one of {RAW_FORMATS}, not {raw_format!r}")
    contract = TABLES_BY_NAME[table]
    path = raw_path.resolve() / f"{table}.{raw_format}"
    if not path.is_file():
        if contract.required:
            raise FileNotFoundError(f"Required raw table '{table}' is missing: expected the file {path}")
        columns = ", ".join(f"cast(null as varchar) as {name}" for name in contract.column_names)
        return f"(select {columns} where 1 = 0)"
    if raw_format == "parquet":
        return f"read_parquet({string_literal(str(path))})"
    return f"read_csv({string_literal(str(path))}, {CSV_OPTIONS})"


def floor_sql(raw_path: Path, raw_format: str, as_of: date, reporting_currency: str = "USD") -> str:
    """The floor script with its placeholders filled: raw readers for the format, the as-of date, the currency."""
    script = _READER_PLACEHOLDER.sub(lambda match: raw_reader(raw_path, raw_format, match.group(1)), floor_script())
    script = script.replace("{as_of}", f"date {string_literal(as_of.isoformat())}")
    script = script.replace("{reporting_currency}", string_literal(reporting_currency.strip().upper()))
    leftover = _ANY_PLACEHOLDER.search(script)
    if leftover:
        raise ValueError(f"floor.sql: unfilled placeholder {leftover.group(0)}")
    return script


def duckdb_config(
    threads: int | None = None, memory_limit: str | None = None
) -> dict[str, str | bool | int | float | list[str]]:
    """The warehouse's DuckDB settings (profiles.yml) for a hand-written floor: `threads` and `memory_limit`
    default to CRM_KPI_DUCKDB_THREADS (2) and CRM_KPI_DUCKDB_MEMORY_LIMIT (8GB), insertion order not preserved."""
    return {
        "threads": threads if threads is not None else int(os.environ.get("CRM_KPI_DUCKDB_THREADS", "2")),
        "memory_limit": memory_limit or os.environ.get("CRM_KPI_DUCKDB_MEMORY_LIMIT", "8GB"),
        "preserve_insertion_order": False,
    }


def run_floor(
    db_path: Path,
    raw_path: Path,
    raw_format: str,
    as_of: date,
    *,
    threads: int | None = None,
    memory_limit: str | None = None,
) -> dict[str, int]:
    """Run the script in a DuckDB file (DuckDB with the warehouse's settings: duckdb_config); rows per table."""
    script = floor_sql(raw_path, raw_format, as_of)
    with duckdb.connect(":memory:", config=duckdb_config(threads, memory_limit)) as connection:
        # Attached under a fixed name: a file named floor.duckdb would otherwise be a catalog `floor`,
        # and `floor.<table>` would be ambiguous between it and the schema.
        connection.execute(f"attach {string_literal(str(db_path))} as {_CATALOG}")
        connection.execute(f"use {_CATALOG}")
        connection.execute(script)
        counts: dict[str, int] = {}
        for table in FLOOR_TABLES:
            row = connection.execute(f"select count(*) from {FLOOR_SCHEMA}.{table}").fetchone()
            counts[table] = int(row[0]) if row else 0
    return counts


__all__ = ["FLOOR_TABLES", "duckdb_config", "floor_script", "floor_sql", "raw_reader", "run_floor", "string_literal"]
