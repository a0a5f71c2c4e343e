"""What a build is made of and where it goes: the settings every step of a run reads (dbt's profile and
sources read the same values as environment variables, so a user's plain `dbt build` and `crm-kpi run`
see one configuration), and the salt of the hashed PII kept beside the warehouse."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from crm_kpi.paths import project_root


@dataclass
class BuildSettings:
    """Where to build and from what. Defaults: the demo seeds into warehouse/crm_kpi.duckdb."""

    db_path: Path
    raw_path: Path | None = None
    raw_format: str = "csv"
    target: str = "duckdb"
    as_of_date: str | None = None
    extra_vars: dict[str, Any] = field(default_factory=dict)
    # dbt's --quiet: errors only on its console output.
    quiet: bool = False
    # Where dbt's console output goes (appended, without colour codes); None: the terminal.
    dbt_log: Path | None = None
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

    @property
    def logs_dir(self) -> Path:
        """dbt's logs/ folder of this build (dbt.log, at debug level)."""
        return (self.artifacts_dir or project_root()) / "logs"

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
