"""The main job: load the raw data, `dbt build` every model and test, validate the marts, summarise.

dbt runs as a subprocess (the dbt CLI of this environment); the settings that select the warehouse and
the raw data are the same environment variables profiles.yml and the sources read, so a user's plain
`dbt build` and this job see one configuration.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from crm_kpi import manifest, preflight
from crm_kpi.measure import run_measured
from crm_kpi.paths import project_root


class DbtFailed(RuntimeError):
    """A dbt command failed; the message lists the failing nodes."""

    def __init__(self, message: str, results: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.results = results or []  # the failing nodes of run_results.json


# The row accounting's test: rows in the file = staged + superseded + deleted + quarantined.
ROW_ACCOUNTING = "audit_crm__row_accounting"
LOCK_HINT = (
    "the DuckDB file is locked by another process (a writer, or a reader on a platform that locks "
    "readers out): `crm-kpi run` builds beside the published file and is not blocked by readers; "
    "a plain `dbt build` writes the file itself and needs it free"
)


@dataclass
class DbtOutcome:
    command: str
    seconds: float
    counts: Counter[str] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)
    peak_rss_mib: float = 0.0  # the dbt process tree's peak resident memory, sampled (0 where the OS does not say)
    model_seconds: dict[str, float] = field(default_factory=dict)  # each model's execution time, by name


@dataclass
class BuildSettings:
    """Where to build and from what. Defaults: the demo seeds into warehouse/crm_kpi.duckdb."""

    db_path: Path
    raw_path: Path | None = None
    raw_format: str = "csv"
    target: str = "duckdb"
    as_of_date: str | None = None
    extra_vars: dict[str, Any] = field(default_factory=dict)
    quiet: bool = False
    # DuckDB's memory_limit (e.g. "4GB"); None: the profile's default.
    memory_limit: str | None = None
    # Rebuild the incremental facts from scratch (dbt build --full-refresh).
    full_refresh: bool = False
    # dbt's target/ and logs/ folders; None: the project's own (tests keep theirs apart).
    artifacts_dir: Path | None = None
    # PostgreSQL/Spark: the prefix of every schema of the build (dbt's var schema_prefix, and the raw
    # schema the loader fills): `crm-kpi run` builds a PostgreSQL candidate in `_build_*` schemas.
    schema_prefix: str = ""
    # Run the dbt unit tests in the build. The test suite's builds do (CI); the main job does not, as
    # dbt recommends for production: their inputs are fixed rows, so they prove the code, not the data.
    unit_tests: bool = True
    # Publish even when the publish guard finds a figure past its threshold (crm_kpi.guard).
    accept_changes: bool = False
    # Run the data tests in the build (False: models only, for an engine whose marts are compared with a
    # tested build's, as the test suite's Spark build is).
    data_tests: bool = True

    def __post_init__(self) -> None:
        """Every value that reaches SQL from a user is checked here (and again by dbt's validate_vars)."""
        if self.as_of_date is not None:
            check_date(self.as_of_date, "the as-of date")
        if self.raw_format not in ("csv", "parquet"):
            raise ValueError(f"raw format {self.raw_format!r}: csv or parquet")
        if any(quote in self.db_path.stem for quote in "'\""):
            # dbt-duckdb names the database after the file's base name and writes it unescaped in SQL.
            raise ValueError(
                f"DuckDB file name {self.db_path.name!r}: dbt-duckdb names the database after it and cannot "
                "quote a quote in it; choose a name without quotes (the folder may have any name)"
            )
        if not re.fullmatch(r"[a-z0-9_]*", self.schema_prefix):
            raise ValueError(f"schema prefix {self.schema_prefix!r}: lower-case letters, digits and underscores")

    @property
    def spark_dir(self) -> Path:
        """Working folder of a Spark build: its Derby metastore and spark-warehouse live here."""
        return self.db_path.parent / "spark"

    def environment(self) -> dict[str, str]:
        env = {
            "CRM_KPI_SPARK_WAREHOUSE": str(self.spark_dir / "spark-warehouse"),
            "DBT_PROFILES_DIR": str(project_root()),
            "CRM_KPI_TARGET": self.target,
            "CRM_KPI_DUCKDB_PATH": str(self.db_path),
            "CRM_KPI_DUCKDB_TEMP_DIR": str(self.db_path.parent / "tmp"),
            "CRM_KPI_RAW_FORMAT": self.raw_format,
            "CRM_KPI_RAW_PATH": str(self.raw_path.resolve()) if self.raw_path else "",
        }
        if self.memory_limit:
            env["CRM_KPI_DUCKDB_MEMORY_LIMIT"] = self.memory_limit
        env["CRM_KPI_PII_SALT"] = pii_salt(self.db_path)
        return env

    @property
    def target_dir(self) -> Path:
        """dbt's target/ folder of this build (its manifest lists what the project builds)."""
        return (self.artifacts_dir or project_root()) / "target"

    def marts(self) -> list[manifest.Mart]:
        """Every mart of the project, from the manifest of the last dbt command of this build."""
        return manifest.marts(manifest.load(manifest.manifest_path(self.target_dir)))

    def kpi_marts(self) -> list[manifest.Mart]:
        return [mart for mart in self.marts() if mart.is_kpi]

    def dbt_vars(self) -> dict[str, Any]:
        dbt_vars = dict(self.extra_vars)
        if self.as_of_date:
            dbt_vars["as_of_date"] = self.as_of_date
        if self.schema_prefix:
            dbt_vars["schema_prefix"] = self.schema_prefix
        return dbt_vars


PII_SALT_SUFFIX = ".pii_salt"


def pii_salt_path(db_path: Path) -> Path:
    """Where the salt of lead_person_key is kept when CRM_KPI_PII_SALT is unset: beside the published
    warehouse (a candidate in `<db>.build/` uses its published file's), so every build of it shares one."""
    if db_path.parent.name == db_path.name + ".build":
        db_path = db_path.parent.parent / db_path.name
    return db_path.with_name(db_path.name + PII_SALT_SUFFIX)


def pii_salt(db_path: Path) -> str:
    """The secret salt of lead_person_key: $CRM_KPI_PII_SALT, else the salt kept beside the warehouse,
    created at random (readable by its owner only) at the first build."""
    import secrets

    salt = os.environ.get("CRM_KPI_PII_SALT", "")
    if salt:
        if len(salt) < 16:
            raise ValueError("CRM_KPI_PII_SALT (the secret salt of lead_person_key) must hold at least 16 characters")
        return salt
    path = pii_salt_path(db_path)
    if path.is_file():
        return path.read_text(encoding="utf-8").strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    salt = secrets.token_hex(32)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another build made it meanwhile
        return path.read_text(encoding="utf-8").strip()
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(salt + "\n")
    return salt


def check_date(value: str, what: str) -> str:
    """A date YYYY-MM-DD inside the raw contract's plausible window, or ValueError saying why."""
    from crm_kpi.contract import EARLIEST_PLAUSIBLE_DATE, LATEST_PLAUSIBLE_DATE

    try:
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            raise ValueError
        date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{what} {value!r} is not a date YYYY-MM-DD") from None
    if not EARLIEST_PLAUSIBLE_DATE <= value <= LATEST_PLAUSIBLE_DATE:
        raise ValueError(f"{what} {value} is outside {EARLIEST_PLAUSIBLE_DATE} to {LATEST_PLAUSIBLE_DATE}")
    return value


def run_dbt(settings: BuildSettings, args: list[str]) -> DbtOutcome:
    """Run one dbt command (a subprocess, its log streaming to the terminal) against the settings'
    warehouse; count node results from run_results.json; raise DbtFailed naming the failing nodes."""
    command = [str(Path(sys.executable).parent / "dbt"), *args]
    if settings.dbt_vars():
        command += ["--vars", json.dumps(settings.dbt_vars())]
    command += ["--project-dir", str(project_root()), "--profiles-dir", str(project_root())]
    target_dir = settings.target_dir
    if settings.artifacts_dir is not None:
        command += ["--target-path", str(target_dir), "--log-path", str(settings.artifacts_dir / "logs")]
    if settings.quiet:
        command.insert(1, "--quiet")
    settings.db_path.parent.mkdir(parents=True, exist_ok=True)
    results_file = target_dir / "run_results.json"
    results_file.unlink(missing_ok=True)
    workdir = settings.spark_dir if settings.target == "spark" else None
    if workdir is not None:
        workdir.mkdir(parents=True, exist_ok=True)
    returncode, seconds, peak = run_measured(command, env={**os.environ, **settings.environment()}, cwd=workdir)
    outcome = DbtOutcome(" ".join(args), seconds, peak_rss_mib=peak)
    failed: list[dict[str, Any]] = []
    if results_file.exists():
        for node in json.loads(results_file.read_text(encoding="utf-8")).get("results", []):
            resource_type = node.get("unique_id", "node").split(".")[0]
            status = str(node.get("status"))
            outcome.counts[f"{resource_type}:{status}"] += 1
            if resource_type == "model":
                outcome.model_seconds[node["unique_id"].split(".")[-1]] = float(node.get("execution_time", 0))
            if status in {"error", "fail", "runtime error"}:
                outcome.failures.append(f"{node.get('unique_id')} ({status}): {_short(node.get('message'))}")
                failed.append(node)
    if returncode != 0:
        details = "\n  ".join(outcome.failures) or _log_tail(settings)
        if "Could not set lock on file" in details or "Conflicting lock" in details:
            details += f"\n  ({LOCK_HINT})"
        raise DbtFailed(f"dbt {' '.join(args)} failed (exit {returncode}):\n  {details}", failed)
    return outcome


def _log_tail(settings: BuildSettings) -> str:
    """dbt's own error when no node failed (a failure before any node ran: a hook, a compilation):
    the lines of its log from the last "Encountered an error"."""
    log = (settings.artifacts_dir or project_root()) / "logs" / "dbt.log"
    try:
        lines = log.read_text(encoding="utf-8", errors="replace").splitlines()[-400:]
    except OSError:
        return "see the dbt log above"
    starts = [index for index, line in enumerate(lines) if "Encountered an error" in line]
    if not starts:
        return "see the dbt log above"
    kept = [re.sub(r"^.*?\[\w+\]: ", "", line).strip() for line in lines[starts[-1] + 1 : starts[-1] + 12]]
    return "\n  ".join(line for line in kept if line and not line.startswith("> ")) or "see the dbt log above"


def _short(message: str | None) -> str:
    """A dbt node message without its macro call stack."""
    lines = [line.strip() for line in (message or "").splitlines() if line.strip()]
    kept = [line for line in lines if not line.startswith("> ")]
    return " ".join(kept)[:600]


RawExportError = preflight.RawExportError


def check_raw_folder(raw_path: Path, raw_format: str) -> list[str]:
    """The export checked against the raw contract (crm_kpi.preflight); returns the optional tables
    whose file is absent or empty."""
    return preflight.check_raw_folder(raw_path, raw_format)


def load_raw(settings: BuildSettings) -> None:
    """Bulk-load the raw data into a server engine's `raw` schema (DuckDB reads seeds or files directly)."""
    raw_path = settings.raw_path or project_root() / "seeds" / "demo"
    if settings.target == "postgres":
        from crm_kpi.loaders import PostgresSettings, load_postgres

        load_postgres(
            raw_path,
            settings.raw_format,
            PostgresSettings.from_environment(),
            schema=f"{settings.schema_prefix}raw",
            progress=_progress,
        )
    elif settings.target == "spark":
        settings.spark_dir.mkdir(parents=True, exist_ok=True)
        command = [sys.executable, "-m", "crm_kpi.spark_load", str(raw_path.resolve()), settings.raw_format]
        env = {**os.environ, **settings.environment()}
        if subprocess.run(command, env=env, cwd=settings.spark_dir, check=False).returncode != 0:
            raise DbtFailed(f"loading {raw_path} into Spark failed (see the log above)")


def _progress(message: str) -> None:
    print(f"[crm-kpi load] {message}", flush=True)


def build(settings: BuildSettings, say: Callable[[str], None] | None = None) -> list[DbtOutcome]:
    """Check the export against the raw contract, load the raw data (demo seeds on DuckDB, the bulk
    loader on a server engine) and `dbt build` every model and test. An incremental build whose row
    accounting does not balance (the export changed before the lookback window: an event added,
    removed or changed there, which the incremental staging models do not re-read) is redone as a
    full refresh."""
    if settings.raw_path is not None:
        check_raw_folder(settings.raw_path, settings.raw_format)
    outcomes = []
    if settings.target != "duckdb":
        load_raw(settings)
    elif settings.raw_path is None:
        outcomes.append(run_dbt(settings, ["seed", "--full-refresh"]))
    refresh = ["--full-refresh"] if settings.full_refresh else []
    excluded = ["--exclude-resource-type", "seed"]
    excluded += ([] if settings.unit_tests else ["unit_test"]) + ([] if settings.data_tests else ["test"])
    try:
        outcomes.append(run_dbt(settings, ["build", *excluded, *refresh]))
    except DbtFailed as error:
        unbalanced = any(ROW_ACCOUNTING in str(node.get("unique_id")) for node in error.results)
        if settings.full_refresh or not unbalanced:
            raise
        (say or _progress)(
            "the row accounting does not balance after the incremental build, or the rows before the lookback "
            "window are not the same rows as the last run's (the export changed before the window): rebuilding "
            "from scratch"
        )
        outcomes.append(run_dbt(settings, ["build", *excluded, "--full-refresh"]))
    return outcomes


QUARANTINE_SQL = "select table_name, count(*) from audit.audit_crm__quarantined_rows group by 1 order by 1"


def query_with_columns(settings: BuildSettings, sql: str) -> tuple[list[str], list[tuple[object, ...]]]:
    """The column names and rows of a query on the built warehouse (DuckDB file or PostgreSQL)."""
    if settings.target == "postgres":
        from crm_kpi.loaders import PostgresSettings

        connection = PostgresSettings.from_environment().connect()
        try:
            with connection.cursor() as cursor:
                cursor.execute(sql)
                return [str(column[0]) for column in cursor.description], list(cursor.fetchall())
        finally:
            connection.close()
    import duckdb

    with duckdb.connect(str(settings.db_path), read_only=True) as duck:
        result = duck.execute(sql)
        return [str(column[0]) for column in result.description or []], result.fetchall()


def query(settings: BuildSettings, sql: str) -> list[tuple[object, ...]]:
    """Rows of a query on the built warehouse (DuckDB file or PostgreSQL)."""
    return query_with_columns(settings, sql)[1]


def mart_row_counts(settings: BuildSettings) -> dict[str, int]:
    """Rows of every mart the manifest lists, by name."""
    counts: dict[str, int] = {}
    for mart in settings.marts():
        rows = query(settings, f'select count(*) from marts."{mart.name}"')
        counts[mart.name] = int(str(rows[0][0]))
    return counts


def quarantine_counts(settings: BuildSettings) -> dict[str, int]:
    return {str(name): int(str(count)) for name, count in query(settings, QUARANTINE_SQL)}
