"""Write a raw export (the raw contract's CSV files, e.g. the demo set) as a Salesforce Data Export:
one CSV per object named `<Object>.csv`, API field names, 18-character record ids.

Each contract id becomes a Salesforce id of its object's key prefix (005 User, 00Q Lead, 006
Opportunity, ...): the record number is the id's rank among the ids of its kind, so the ids keep their
order. Values are written as the export has them (a malformed date stays malformed, so the adapted
build quarantines what the native build quarantines). What the standard objects cannot hold is
written to the custom fields the adapter reads by default (`Region__c`, `Sales_Role__c`, ...) or left
out (listed in docs/salesforce-hubspot.md); the tables Salesforce has no object for are copied as
contract files (`quotas.csv`, ...) with their ids translated.

    python -m crm_kpi.generator.salesforce_export NATIVE_DIR OUT_DIR
"""

from __future__ import annotations

import csv
import sys
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from crm_kpi.contract import TABLES
from crm_kpi.generator.salesforce_objects import OBJECTS, SalesforceObject
from crm_kpi.source_adapters import SALESFORCE_TABLES

# The contract id prefixes and the key prefix of the Salesforce object each becomes.
KEY_PREFIXES: dict[str, str] = {
    "usr_": "005",
    "team_": "00E",
    "cmp_": "701",
    "lead_": "00Q",
    "tch_": "00v",
    "acc_": "001",
    "opp_": "006",
    "prd_": "01t",
    "li_": "00k",
}
TASK_PREFIX, EVENT_PREFIX = "00T", "00U"
EVENT_TYPES = ("meeting", "demo")
CHECKSUM_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
# Contract tables Salesforce has no standard object for: copied in contract shape, ids translated.
COMPANION_TABLES = tuple(table.name for table in TABLES if table.name not in SALESFORCE_TABLES)

Row = dict[str, str]


def id18(id15: str) -> str:
    """The 18-character form of a 15-character Salesforce id (its case-checksum suffix appended)."""
    suffix = ""
    for chunk in range(3):
        bits = sum(1 << bit for bit, char in enumerate(id15[chunk * 5 : chunk * 5 + 5]) if "A" <= char <= "Z")
        suffix += CHECKSUM_ALPHABET[bits]
    return id15 + suffix


def salesforce_id(key_prefix: str, number: int) -> str:
    """An 18-character id: key prefix, pod `5g0`, a 9-digit record number, checksum."""
    return id18(f"{key_prefix}5g0{number:09d}")


def read_rows(path: Path) -> list[Row]:
    if not path.is_file() or path.stat().st_size == 0:
        return []
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def build_id_map(native: dict[str, list[Row]]) -> dict[str, str]:
    """Every contract id of a Salesforce object -> its Salesforce id (ranked within its kind)."""
    activity_prefix = {
        row["activity_id"]: EVENT_PREFIX if row["activity_type"].strip().lower() in EVENT_TYPES else TASK_PREFIX
        for row in native.get("activities", [])
    }
    kinds: dict[str, set[str]] = {}
    for rows in native.values():
        for row in rows:
            for column, value in row.items():
                if not column.endswith("_id") or not value:
                    continue
                prefix = activity_prefix.get(value) or next(
                    (sf for contract, sf in KEY_PREFIXES.items() if value.startswith(contract)), None
                )
                if prefix:
                    kinds.setdefault(prefix, set()).add(value)
    return {
        value: salesforce_id(prefix, rank)
        for prefix, values in kinds.items()
        for rank, value in enumerate(sorted(values), start=1)
    }


def write_csv(path: Path, columns: list[str], rows: Iterable[Row]) -> int:
    count = 0
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow(row)
            count += 1
    return count


def translate(row: Row, id_map: dict[str, str]) -> Row:
    return {column: id_map.get(value, value) if column.endswith("_id") else value for column, value in row.items()}


def object_rows(spec: SalesforceObject, native: dict[str, list[Row]], ids: Callable[[str], str]) -> Iterator[Row]:
    keep = spec.keep(native) if spec.keep else None
    for row in native.get(spec.table, []):
        if keep is None or keep(row):
            yield {field: value(row, ids, native) for field, value in spec.fields.items()}


def write_export(native_dir: Path, out_dir: Path) -> dict[str, str]:
    """Write the Salesforce export of the contract files in native_dir; returns the id map used."""
    tables = {path.stem: read_rows(path) for path in sorted(native_dir.glob("*.csv"))}
    id_map = build_id_map(tables)

    def ids(value: str) -> str:
        return id_map.get(value, value)

    out_dir.mkdir(parents=True, exist_ok=True)
    for spec in OBJECTS:
        write_csv(out_dir / f"{spec.name}.csv", list(spec.fields), object_rows(spec, tables, ids))
    for table in COMPANION_TABLES:
        rows = tables.get(table, [])
        if rows:
            write_csv(out_dir / f"{table}.csv", list(rows[0]), (translate(row, id_map) for row in rows))
    return id_map


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    id_map = write_export(Path(argv[0]), Path(argv[1]))
    print(f"wrote the Salesforce export of {argv[0]} to {argv[1]} ({len(id_map)} ids)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
