"""The raw export loaded into a server engine's `raw` schema before dbt runs (DuckDB reads the seeds or the
files themselves): PostgreSQL by COPY (crm_kpi.loaders), Spark by a PySpark process (crm_kpi.spark_load)."""

from __future__ import annotations

import os
import subprocess
import sys

from crm_kpi.paths import project_root
from crm_kpi.settings import BuildSettings


class LoadFailed(RuntimeError):
    """Loading the raw export into the engine failed (the message says where to look)."""


def progress(message: str) -> None:
    print(f"[crm-kpi load] {message}", flush=True)


def load_raw(settings: BuildSettings) -> None:
    """Bulk-load the raw data into a server engine's `raw` schema."""
    raw_path = settings.raw_path or project_root() / "seeds" / "demo"
    if settings.target == "postgres":
        from crm_kpi.loaders import PostgresSettings, load_postgres

        load_postgres(
            raw_path,
            settings.raw_format,
            PostgresSettings.from_environment(),
            schema=f"{settings.schema_prefix}raw",
            progress=progress,
        )
    elif settings.target == "spark":
        settings.spark_dir.mkdir(parents=True, exist_ok=True)
        command = [sys.executable, "-m", "crm_kpi.spark_load", str(raw_path.resolve()), settings.raw_format]
        env = {**os.environ, **settings.environment()}
        if subprocess.run(command, env=env, cwd=settings.spark_dir, check=False).returncode != 0:
            raise LoadFailed(f"loading {raw_path} into Spark failed (see the log above)")
