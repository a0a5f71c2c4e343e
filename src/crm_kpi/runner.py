"""The main job: load the raw data, `dbt build` every model and test, validate the marts, summarise.

dbt runs in-process through its programmatic entry point (dbtRunner); the settings that select the
warehouse and the raw data are the same environment variables profiles.yml and the sources read, so a
user's plain `dbt build` and this job see one configuration.
"""

from __future__ import annotations

import os
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from crm_kpi.paths import project_root

KPI_MARTS = (
    "kpi_funnel_conversion",
    "kpi_campaign_cac",
    "kpi_campaign_cac_monthly",
    "kpi_churn_by_cohort",
    "kpi_revenue_per_rep",
)


class DbtFailed(RuntimeError):
    """A dbt command failed; the message lists the failing nodes."""


@dataclass
class DbtOutcome:
    command: str
    seconds: float
    counts: Counter[str] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)


@dataclass
class BuildSettings:
    """Where to build and from what. Defaults: the demo seeds into warehouse/crm_kpi.duckdb."""

    db_path: Path
    raw_path: Path | None = None
    raw_format: str = "csv"
    target: str = "duckdb"
    as_of_date: str | None = None
    extra_vars: dict[str, str] = field(default_factory=dict)
    quiet: bool = False

    def environment(self) -> dict[str, str]:
        env = {
            "DBT_PROFILES_DIR": str(project_root()),
            "CRM_KPI_TARGET": self.target,
            "CRM_KPI_DUCKDB_PATH": str(self.db_path),
            "CRM_KPI_DUCKDB_TEMP_DIR": str(self.db_path.parent / "tmp"),
            "CRM_KPI_RAW_FORMAT": self.raw_format,
            "CRM_KPI_RAW_PATH": str(self.raw_path.resolve()) if self.raw_path else "",
        }
        return env

    def dbt_vars(self) -> dict[str, str]:
        dbt_vars = dict(self.extra_vars)
        if self.as_of_date:
            dbt_vars["as_of_date"] = self.as_of_date
        return dbt_vars


@contextmanager
def _environment(values: dict[str, str]) -> Iterator[None]:
    saved = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def run_dbt(settings: BuildSettings, args: list[str]) -> DbtOutcome:
    """Run one dbt command in-process against the settings' warehouse; raise DbtFailed on failure."""
    from dbt.cli.main import dbtRunner

    command = list(args)
    if settings.dbt_vars():
        import json

        command += ["--vars", json.dumps(settings.dbt_vars())]
    command += ["--project-dir", str(project_root()), "--profiles-dir", str(project_root())]
    if settings.quiet:
        command = ["--quiet", *command]
    settings.db_path.parent.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    with _environment(settings.environment()):
        result = dbtRunner().invoke(command)
    outcome = DbtOutcome(" ".join(args), time.perf_counter() - started)
    for node_result in _node_results(result.result):
        resource_type = str(getattr(node_result.node, "resource_type", "node"))
        status = str(node_result.status)
        outcome.counts[f"{resource_type}:{status}"] += 1
        if status in {"error", "fail", "runtime error"}:
            message = (node_result.message or "").strip().splitlines()
            outcome.failures.append(f"{node_result.node.name} ({status}): {message[0] if message else ''}")
    if not result.success:
        details = "\n  ".join(outcome.failures) or str(result.exception or "see the dbt log above")
        raise DbtFailed(f"dbt {' '.join(args)} failed:\n  {details}")
    return outcome


def _node_results(result: Any) -> list[Any]:
    return list(getattr(result, "results", None) or [])


def mart_row_counts(db_path: Path, schema: str = "marts") -> dict[str, int]:
    import duckdb

    with duckdb.connect(str(db_path), read_only=True) as connection:
        tables = connection.execute(
            "select table_name from information_schema.tables where table_schema = ? order by table_name",
            [schema],
        ).fetchall()
        counts = {}
        for (table_name,) in tables:
            row = connection.execute(f'select count(*) from "{schema}"."{table_name}"').fetchone()
            counts[table_name] = int(row[0]) if row else 0
    return counts


def quarantine_counts(db_path: Path) -> dict[str, int]:
    import duckdb

    with duckdb.connect(str(db_path), read_only=True) as connection:
        rows = connection.execute(
            "select table_name, count(*) from audit.audit_crm__quarantined_rows group by 1 order by 1"
        ).fetchall()
    return {str(name): int(count) for name, count in rows}
