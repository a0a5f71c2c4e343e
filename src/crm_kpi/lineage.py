"""What a partial export can answer, from the manifest's lineage and the marts' declared needs.

A mart reads the raw tables its lineage reaches (`raw_inputs`: its sources, following depends_on down the
DAG). Of those, a mart declares in its YAML the optional tables it cannot answer without: model meta
`needs` (the mart is empty without them, e.g. the pipeline waterfall without the stage history) and
column meta `needs` (the column is null without them, e.g. past pipeline amounts; the deal counts beside
them still come from the deals' own dates). The run summary says, for each table the export lacks, what
it leaves unanswered and nothing else: an empty mart names its declared needs that are missing, else
the missing tables of its lineage, and a non-empty mart names its columns left null.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from crm_kpi import manifest


def raw_inputs(built: Mapping[str, Any], model_name: str, not_followed: tuple[str, ...] = ()) -> set[str]:
    """The raw tables (sources) a model is built from, following depends_on down the DAG; models whose name
    starts with one of `not_followed` (other than the model itself) are not followed."""
    nodes = {**built["nodes"], **built.get("sources", {})}
    pending = [uid for uid, node in built["nodes"].items() if node.get("name") == model_name]
    found: set[str] = set()
    seen: set[str] = set()
    while pending:
        current = pending.pop()
        if current in seen or current not in nodes:
            continue
        seen.add(current)
        node = nodes[current]
        name = str(node.get("name", ""))
        if node.get("resource_type") == "source":
            found.add(name)
        elif name == model_name or not (not_followed and name.startswith(not_followed)):
            pending += (node.get("depends_on") or {}).get("nodes", [])
    return found


@dataclass(frozen=True)
class RawTable:
    """A raw table as the row accounting saw it."""

    present: bool
    rows: int
    staged: int

    @property
    def missing(self) -> str | None:
        """Why the table gives the marts nothing, or None when it gives them rows."""
        if not self.present:
            return "absent"
        if self.rows == 0:
            return "empty (header only)"
        if self.staged == 0:
            return "no row staged (all quarantined or deleted)"
        return None


def _missing(tables: Iterable[str], raw: Mapping[str, RawTable]) -> list[str]:
    return [table for table in sorted(tables) if table in raw and raw[table].missing]


def empty_reason(mart: manifest.Mart, built: Mapping[str, Any], raw: Mapping[str, RawTable]) -> str:
    """Why an empty KPI mart is empty: the declared needs the export lacks, else the missing tables of its
    lineage, else its definition."""
    needed = _missing(mart.needs, raw)
    if needed:
        return "needs " + ", ".join(f"{table} ({raw[table].missing})" for table in needed)
    missing = _missing(raw_inputs(built, mart.name), raw)
    if not missing:
        return "no row matches its definition"
    return "inputs absent or empty: " + ", ".join(f"{table} {raw[table].missing}" for table in missing)


def null_columns(mart: manifest.Mart, raw: Mapping[str, RawTable]) -> dict[str, list[str]]:
    """The mart's columns left null because a table they declare they need is missing, by that table."""
    found: dict[str, list[str]] = {}
    for column in mart.columns:
        for table in _missing(column.needs, raw):
            found.setdefault(table, []).append(column.name)
    return found
