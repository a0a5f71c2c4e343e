"""The raw export checked against the raw contract before dbt runs (or anything is loaded or published):
each problem named with its file, line and column, all of them at once.

- a required table's file is missing, or empty (zero bytes: not even a header);
- a path named like a table's file that is not a regular file (a directory, a broken symlink or a
  symlink loop): refused, never read as an absent optional table;
- a file lacks a column of the contract (a table may carry more columns: they are ignored), or names
  one column twice as the reader sees names: case-insensitively, after trimming spaces and a
  byte-order mark (`Channel` and `channel` are one column to DuckDB, which would read one for the other);
- a CSV file that is not RFC 4180 as the reader reads it (comma, double quote, quote doubled to
  escape it; the dbt sources pin that dialect): a byte that is not UTF-8, a quote that is never
  closed, text after a closing quote, a record with a field too few or too many, a record longer
  than the reader's limit (MAX_RECORD_BYTES), each named with its line (1 is the header) and column;
- a Parquet column of a type that cannot hold the contract's values faithfully: a decimal (money,
  rates) stored as an integer type is refused, since an integer amount is most often in cents and
  would be read 100 times too large; a date as anything but a date or text; and so on (PARQUET_TYPES).

An optional table whose file is absent or zero bytes is not a problem: its KPIs come out empty, and the
run's summary says so (`absent_or_empty_files`).
"""

from __future__ import annotations

import csv
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from crm_kpi import source_adapters
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


# DuckDB's read_csv refuses a record longer than this many bytes (its max_line_size default); a CSV
# record longer than it is refused before dbt, naming its line and its longest field.
MAX_RECORD_BYTES = 2_097_152
# The problems named per file and class before "and N more".
SHOWN_PER_CLASS = 3
_CHUNK = 1 << 24


def reader_names(header: list[str]) -> list[str]:
    """A header's names as the reader matches them: trimmed, lower case (DuckDB binds names
    case-insensitively; the byte-order mark is gone when the file is decoded as utf-8-sig)."""
    return [name.strip().lower() for name in header]


def csv_header(path: Path) -> list[str]:
    """The header of a CSV file (UTF-8, with or without a byte-order mark, any line ending), trimmed."""
    with open(path, encoding="utf-8-sig", errors="surrogateescape", newline="") as handle:
        return [name.strip() for name in next(csv.reader(handle), [])]


def first_non_utf8_byte(path: Path) -> int | None:
    """The offset of the first byte of the file that is not UTF-8 (the whole file, in chunks), or None."""
    offset, carry = 0, b""
    with open(path, "rb") as handle:
        while True:
            chunk = handle.read(_CHUNK)
            buffer = carry + chunk
            try:
                buffer.decode("utf-8")
            except UnicodeDecodeError as error:
                # A character cut by the chunk's end is carried to the next chunk.
                if chunk and error.reason == "unexpected end of data" and error.start >= len(buffer) - 3:
                    offset, carry = offset + error.start, buffer[error.start :]
                    continue
                return offset + error.start
            if not chunk:
                return None
            offset, carry = offset + len(buffer), b""


def _line_of(path: Path, offset: int) -> int:
    """The 1-based line of a byte offset."""
    lines, read = 1, 0
    with open(path, "rb") as handle:
        while read < offset:
            chunk = handle.read(min(_CHUNK, offset - read))
            if not chunk:
                break
            lines += chunk.count(b"\n")
            read += len(chunk)
    return lines


class _Lines:
    """The file's lines for csv.reader, keeping those of the record being read (to locate an error in it)."""

    def __init__(self, handle: Any) -> None:
        self.handle = handle
        self.record: list[str] = []
        self.kept = 0

    def __iter__(self) -> Iterator[str]:
        for line in self.handle:
            if self.kept < 4 * MAX_RECORD_BYTES:
                self.record.append(line)
                self.kept += len(line)
            yield line

    def start_record(self) -> None:
        self.record, self.kept = [], 0


def _field_of_quote_error(text: str) -> int:
    """The 0-based field of a record where its quoting breaks (RFC 4180: a quote never closed, or text
    after a closing quote): the field of the last quote that opened before the error."""
    field, in_quotes, quoted_field, position = 0, False, 0, 0
    while position < len(text):
        char = text[position]
        if in_quotes:
            if char == '"':
                if text[position + 1 : position + 2] == '"':
                    position += 1
                else:
                    in_quotes = False
                    after = text[position + 1 : position + 2]
                    if after not in ("", ",", "\r", "\n"):
                        return field
        elif char == '"':
            in_quotes, quoted_field = True, field
        elif char == ",":
            field += 1
        position += 1
    return quoted_field if in_quotes else field


def _name(header: list[str], index: int) -> str:
    return header[index] if 0 <= index < len(header) else f"#{index + 1} (past the header)"


def csv_problems(path: Path) -> list[str]:
    """Every record of a CSV file read as the dbt sources read it (RFC 4180, UTF-8): the problems, each
    with its line (1 is the header) and column."""
    bad_byte = first_non_utf8_byte(path)
    bad_line = _line_of(path, bad_byte) if bad_byte is not None else None
    classes: dict[str, list[str]] = {}

    def add(kind: str, problem: str) -> None:
        classes.setdefault(kind, []).append(problem)

    csv.field_size_limit(min(sys.maxsize, 1 << 40))
    with open(path, encoding="utf-8-sig", errors="surrogateescape", newline="") as handle:
        lines = _Lines(handle)
        reader = csv.reader(lines, strict=True)
        header: list[str] = []
        line = 0
        try:
            while True:
                lines.start_record()
                start = line + 1
                row = next(reader, None)
                if row is None:
                    break
                line = reader.line_num
                if not header:
                    header = [name.strip() for name in row]
                    continue
                if not row:  # a blank line: the reader skips it too
                    continue
                if bad_line is not None and start <= bad_line <= line:
                    column = next((index for index, value in enumerate(row) if _has_bad_byte(value)), -1)
                    assert bad_byte is not None
                    byte = _byte_at(path, bad_byte)
                    add(
                        "utf8",
                        f"line {bad_line}, column {_name(header, column)}: not UTF-8 text "
                        f"(byte 0x{byte} at offset {bad_byte} of the file)",
                    )
                if len(row) != len(header):
                    if len(row) < len(header):
                        what = f"{len(header) - len(row)} field(s) too few: no value from column {header[len(row)]} on"
                    else:
                        what = f"{len(row) - len(header)} field(s) too many: a value after the last column {header[-1]}"
                    add("fields", f"line {start}: {len(row)} fields where the header has {len(header)} ({what})")
                length = sum(map(len, row))
                if 4 * length + len(row) > MAX_RECORD_BYTES:
                    sizes = [len(value.encode("utf-8", "surrogateescape")) for value in row]
                    if sum(sizes) + len(row) > MAX_RECORD_BYTES:
                        widest = max(range(len(row)), key=sizes.__getitem__)
                        add(
                            "long",
                            f"line {start}, column {_name(header, widest)}: a record of {sum(sizes) + len(row)} "
                            f"bytes, longer than the reader's limit of {MAX_RECORD_BYTES} (a field of "
                            f"{sizes[widest]} bytes)",
                        )
        except csv.Error as error:
            text = "".join(lines.record)
            where = _name(header, _field_of_quote_error(text)) if header else "(header)"
            why = (
                "a quote opened here is never closed"
                if "end of data" in str(error) or "EOF" in str(error)
                else f"text after a closing quote ({error})"
            )
            add("quote", f"line {start}, column {where}: {why}")
    if bad_line is not None and "utf8" not in classes:
        add("utf8", f"line {bad_line}: not UTF-8 text (byte at offset {bad_byte} of the file)")
    problems = []
    for found in classes.values():
        problems += [f"{path}: {problem}" for problem in found[:SHOWN_PER_CLASS]]
        if len(found) > SHOWN_PER_CLASS:
            problems.append(f"{path}: ... and {len(found) - SHOWN_PER_CLASS} more such line(s)")
    return problems


def _byte_at(path: Path, offset: int) -> str:
    with open(path, "rb") as handle:
        handle.seek(offset)
        return handle.read(1).hex()


def _has_bad_byte(value: str) -> bool:
    return any("\udc80" <= char <= "\udcff" for char in value)


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
        problems += csv_problems(path)
    names = reader_names(header)
    missing = [name for name in table.column_names if name not in names]
    if missing:
        problems.insert(0, f"{path}: lacks the column(s) {', '.join(missing)} of the raw contract's {table.name}")
    for name in sorted({name for name in names if names.count(name) > 1}):
        spellings = ", ".join(repr(header[index]) for index, seen in enumerate(names) if seen == name)
        problems.append(
            f"{path}: the column {name} appears more than once in the header ({spellings}): the reader matches "
            "names case-insensitively after trimming spaces, and would read one for the other"
        )
    return problems


def check_raw_folder(raw_path: Path, raw_format: str) -> list[str]:
    """Raise RawExportError listing every problem of the export; return the optional tables whose file
    is absent or empty (zero bytes), whose KPIs will be empty."""
    if raw_path.is_file():
        raise RawExportError(
            f"--raw-path {raw_path} is a file: name the folder that holds the export's files ({raw_path.parent})"
        )
    if not raw_path.is_dir():
        raise RawExportError(f"raw export folder {raw_path} does not exist: name the folder that holds the export")
    # A source adapter's export (CRM_KPI_SOURCE): its objects instead of the tables it feeds.
    problems: list[str] = source_adapters.object_problems(raw_path, raw_format)
    absent: list[str] = []
    for table in (table for table in TABLES if table.name not in source_adapters.adapted_tables()):
        path = raw_path / f"{table.name}.{raw_format}"
        not_a_file = _not_a_regular_file(path)
        if not_a_file:
            problems.append(f"{path}: {not_a_file}, not a file: move it away, or put the {table.name} export there")
            continue
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
        raise RawExportError(
            _format_hint(raw_path, raw_format)
            or f"raw export {raw_path} does not match the raw contract:\n  " + "\n  ".join(problems)
        )
    return absent


def _format_hint(raw_path: Path, raw_format: str) -> str:
    """A hint when the required files are there in the other format (`--format parquet` on a CSV export)."""
    other = "csv" if raw_format == "parquet" else "parquet"
    required = [table.name for table in TABLES if table.required]
    if all(not (raw_path / f"{name}.{raw_format}").exists() for name in required) and all(
        (raw_path / f"{name}.{other}").is_file() for name in required
    ):
        return f"raw export {raw_path} holds .{other} files, no .{raw_format} file: run again with --format {other}"
    return ""


def _not_a_regular_file(path: Path) -> str | None:
    """Why a path named like a table's file exists but is not a readable regular file, or None (a file,
    or nothing at all)."""
    if not os.path.lexists(path):
        return None
    try:
        path.stat()
    except OSError as error:  # ELOOP: a symlink loop; ENOENT: a broken symlink
        return f"is a symlink that leads nowhere ({error.strerror})"
    if path.is_dir():
        return "is a directory"
    if not path.is_file():
        return "is not a regular file (a device, pipe or socket)"
    return None
