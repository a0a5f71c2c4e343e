"""The ingest floor: every raw file read once, each column cast to its contract type, a table per file.

The least any build that checks every raw row must pay: read the file, trim each text ('' is null),
try_cast it to its type as the base models do (macro cast_raw_text: timestamps to UTC through epoch
microseconds, decimals as doubles, integers as whole numbers, booleans from their texts), and write
the typed rows. No checks beyond the cast, no exchange rates, no dedupe, no marts. `crm-kpi benchmark`
compares the whole dbt build with it.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from crm_kpi.contract import (
    BOOLEAN,
    DATE,
    DECIMAL,
    INTEGER,
    INTEGER_MAGNITUDE_LIMIT,
    STRING,
    TABLES,
    TIMESTAMP,
    Column,
)
from crm_kpi.floor import duckdb_config, raw_reader, string_literal

INGEST_SCHEMA = "ingest"
# The texts of a boolean, as the base models read them (macro parse_boolean).
TRUE_TEXTS = ("true", "t", "1", "yes", "y")
FALSE_TEXTS = ("false", "f", "0", "no", "n")
_CATALOG = "ingest_warehouse"


def typed_column(column: Column) -> str:
    """The select expression of one raw column: its trimmed text cast to the contract type."""
    text = f"nullif(trim(cast({column.name} as varchar)), '')"
    number = f"try_cast({text} as double)"
    casts = {
        STRING: text,
        TIMESTAMP: f"make_timestamp(epoch_us(try_cast({text} as timestamptz)))",
        DATE: f"try_cast({text} as date)",
        DECIMAL: f"try_cast({text} as double)",
        INTEGER: f"case when {number} = floor({number}) and abs({number}) < {INTEGER_MAGNITUDE_LIMIT} "
        f"then cast({number} as bigint) end",
        BOOLEAN: f"case when lower({text}) in {TRUE_TEXTS} then true "
        f"when lower({text}) in {FALSE_TEXTS} then false end",
    }
    return f"{casts[column.type]} as {column.name}"


def ingest_statements(raw_path: Path, raw_format: str) -> dict[str, str]:
    """One `create table` per raw table present (an absent optional file is skipped), by table name."""
    statements: dict[str, str] = {}
    for table in TABLES:
        if not (raw_path / f"{table.name}.{raw_format}").is_file():
            continue
        reader = raw_reader(raw_path, raw_format, table.name)
        columns = ",\n    ".join(typed_column(column) for column in table.columns)
        statements[table.name] = f"create table {INGEST_SCHEMA}.{table.name} as\nselect\n    {columns}\nfrom {reader}"
    return statements


def run_ingest_floor(
    db_path: Path, raw_path: Path, raw_format: str, *, threads: int | None = None, memory_limit: str | None = None
) -> dict[str, int]:
    """Write every raw table present, typed, into `ingest.<table>` of a new DuckDB file; rows per table."""
    statements = ingest_statements(raw_path, raw_format)
    counts: dict[str, int] = {}
    with duckdb.connect(":memory:", config=duckdb_config(threads, memory_limit)) as connection:
        connection.execute(f"attach {string_literal(str(db_path))} as {_CATALOG}")
        connection.execute(f"use {_CATALOG}")
        connection.execute("set TimeZone = 'UTC'")
        connection.execute(f"create schema if not exists {INGEST_SCHEMA}")
        for table, statement in statements.items():
            connection.execute(statement)
            row = connection.execute(f"select count(*) from {INGEST_SCHEMA}.{table}").fetchone()
            counts[table] = int(row[0]) if row else 0
    return counts


__all__ = ["INGEST_SCHEMA", "ingest_statements", "run_ingest_floor", "typed_column"]
