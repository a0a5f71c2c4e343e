"""Compare the marts of a build from a Salesforce export with the native build's reference dumps,
reading the Salesforce ids back as the contract ids the export writer translated."""

from __future__ import annotations

from pathlib import Path

import duckdb


def mart_differences(db: Path, reference_dir: Path, id_map: dict[str, str]) -> dict[str, tuple[int, int]]:
    """Per mart: (rows only in the build, rows only in the reference), ids mapped; equal marts left out."""
    con = duckdb.connect(str(db), read_only=True)
    con.execute("create temp table id_map (contract_id varchar, salesforce_id varchar)")
    con.executemany("insert into id_map values (?, ?)", list(id_map.items()))
    differences: dict[str, tuple[int, int]] = {}
    for path in sorted(reference_dir.glob("*.parquet")):
        table = path.stem
        columns = con.execute(f"describe select * from '{path}'").fetchall()
        select = ", ".join(
            f'coalesce((select salesforce_id from id_map where contract_id = "{name}"), "{name}") as "{name}"'
            if "VARCHAR" in str(kind)
            else f'"{name}"'
            for name, kind, *_ in columns
        )
        names = ", ".join(f'"{name}"' for name, *_ in columns)
        reference = f"(select {select} from '{path}')"
        build = f"(select {names} from marts.{table})"
        only_build, only_reference = con.execute(
            f"select (select count(*) from ({build} except all {reference})),"
            f" (select count(*) from ({reference} except all {build}))"
        ).fetchone() or (0, 0)
        if only_build or only_reference:
            differences[table] = (only_build, only_reference)
    return differences
