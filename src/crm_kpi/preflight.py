"""The raw export checked against the raw contract before dbt runs (or anything is loaded or published):
each problem named with its file and column, all of them at once.

- a required table's file is missing, or empty (zero bytes: not even a header);
- a file lacks a column of the contract (a table may carry more columns: they are ignored);
- a CSV file whose header is not readable UTF-8;
- a Parquet column of a type that cannot hold the contract's values faithfully: a decimal (money,
  rates) stored as an integer type is refused, since an integer amount is most often in cents and
  would be read 100 times too large; a date as anything but a date or text; and so on (PARQUET_TYPES).

An optional table whose file is absent or zero bytes is not a problem: its KPIs come out empty, and the
run's summary says so (`absent_or_empty_files`).
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

from crm_kpi.contract import BOOLEAN, DATE, DECIMAL, INTEGER, STRING, TABLES, TIMESTAMP, Table


class RawExportError(ValueError):
    """The raw export folder does not hold what the raw contract requires."""


# The Parquet (Arrow) type families each contract type accepts; text is always accepted (it is parsed
# and checked row by row in staging, like a CSV).
PARQUET_TYPES: dict[str, tuple[str, ...]] = {
    STRING: ("string", "integer"),
    TIMESTAMP: ("string", "timestamp", "date"),
    DATE: ("string", "date"),
    DECIMAL: ("string", "floating", "decimal"),
    INTEGER: ("string", "integer", "floating"),
    BOOLEAN: ("string", "boolean"),
}


def _family(arrow_type: Any) -> str:
    import pyarrow as pa

    if pa.types.is_dictionary(arrow_type):
        return _family(arrow_type.value_type)
    checks = (
        ("string", pa.types.is_string),
        ("string", pa.types.is_large_string),
        ("integer", pa.types.is_integer),
        ("floating", pa.types.is_floating),
        ("decimal", pa.types.is_decimal),
        ("timestamp", pa.types.is_timestamp),
        ("date", pa.types.is_date),
        ("boolean", pa.types.is_boolean),
        ("null", pa.types.is_null),
    )
    return next((name for name, check in checks if check(arrow_type)), str(arrow_type))


def csv_header(path: Path) -> list[str]:
    """The header of a CSV file (UTF-8, with or without a byte-order mark, any line ending)."""
    with open(path, "rb") as handle:
        head = handle.read(1 << 20)
    try:
        text = head.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        if len(head) < (1 << 20) or error.start < len(head) - 4:
            raise RawExportError(f"{path}: not UTF-8 text (byte {error.start} of the file)") from error
        text = head[: error.start].decode("utf-8-sig")
    rows = csv.reader(io.StringIO(text, newline=""))
    return [name.strip() for name in next(rows, [])]


def _table_problems(table: Table, path: Path, raw_format: str) -> list[str]:
    problems: list[str] = []
    if raw_format == "parquet":
        import pyarrow.parquet as pq

        try:
            schema = pq.read_schema(path)
        except Exception as error:
            return [f"{path}: not a readable Parquet file ({error})"]
        types = {field.name: _family(field.type) for field in schema}
        for column in table.columns:
            family = types.get(column.name)
            if family is None or family == "null" and column.nullable:
                continue
            if family not in PARQUET_TYPES[column.type]:
                hint = (
                    " (an integer amount is often in cents: export it in currency units)"
                    if column.type == DECIMAL
                    else ""
                )
                problems.append(
                    f"{path}: column {column.name} is {schema.field(column.name).type} in Parquet, the contract wants "
                    f"a {column.type} (as text or {', '.join(PARQUET_TYPES[column.type][1:])}){hint}"
                )
        header = list(types)
    else:
        header = csv_header(path)
    missing = [name for name in table.column_names if name not in header]
    if missing:
        problems.insert(0, f"{path}: lacks the column(s) {', '.join(missing)} of the raw contract's {table.name}")
    duplicated = sorted({name for name in header if header.count(name) > 1})
    if duplicated:
        problems.append(f"{path}: the column(s) {', '.join(duplicated)} appear more than once in the header")
    return problems


def check_raw_folder(raw_path: Path, raw_format: str) -> list[str]:
    """Raise RawExportError listing every problem of the export; return the optional tables whose file
    is absent or empty (zero bytes), whose KPIs will be empty."""
    if not raw_path.is_dir():
        raise RawExportError(f"raw export folder {raw_path} does not exist")
    problems: list[str] = []
    absent: list[str] = []
    for table in TABLES:
        path = raw_path / f"{table.name}.{raw_format}"
        if not path.is_file() or path.stat().st_size == 0:
            state = "is missing" if not path.is_file() else "is empty (0 bytes, not even a header)"
            if table.required:
                problems.append(f"{path}: the required table {table.name} {state}")
            else:
                absent.append(f"{table.name} ({'absent' if not path.is_file() else 'zero bytes'})")
            continue
        try:
            problems += _table_problems(table, path, raw_format)
        except RawExportError as error:
            problems.append(str(error))
    if problems:
        raise RawExportError(f"raw export {raw_path} does not match the raw contract:\n  " + "\n  ".join(problems))
    return absent
