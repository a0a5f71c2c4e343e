"""Compare the marts of a build from a Salesforce export with a native build's, row by row, reading
the native build's contract ids as the Salesforce ids the export writer gave them."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import duckdb


def mart_differences(
    db: Path, native_db: Path, id_map: Mapping[str, str], ignored: Mapping[str, tuple[str, ...]] = {}
) -> dict[str, tuple[int, int]]:
    """Per mart: (rows only in the build, rows only in the native build) as multisets, the native
    build's text values mapped through id_map and the ignored columns left out; equal marts left out."""
    con = duckdb.connect(str(db), read_only=True)
    con.execute(f"attach '{native_db}' as native (read_only)")
    con.execute("create temp table id_map (contract_id varchar primary key, salesforce_id varchar)")
    if id_map:
        con.executemany("insert into id_map values (?, ?)", list(id_map.items()))
    marts = [
        row[0]
        for row in con.execute(
            "select table_name from information_schema.tables where table_catalog = 'native' and table_schema = 'marts'"
        ).fetchall()
    ]
    differences: dict[str, tuple[int, int]] = {}
    for table in sorted(marts):
        columns = [
            (name, kind)
            for name, kind, *_ in con.execute(f"describe native.marts.{table}").fetchall()
            if name not in ignored.get(table, ())
        ]
        mapped = ", ".join(
            f'coalesce((select salesforce_id from id_map where contract_id = "{name}"), "{name}")'
            if kind == "VARCHAR"
            else f'"{name}"'
            for name, kind in columns
        )
        names = ", ".join(f'"{name}"' for name, _ in columns)
        native = f"select {mapped} from native.marts.{table}"
        build = f"select {names} from marts.{table}"
        counts = con.execute(
            f"select (select count(*) from ({build} except all {native})),"
            f" (select count(*) from ({native} except all {build}))"
        ).fetchone()
        if counts and (counts[0] or counts[1]):
            differences[table] = (int(counts[0]), int(counts[1]))
    con.close()
    return differences
