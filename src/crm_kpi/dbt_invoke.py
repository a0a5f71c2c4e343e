"""dbt invoked for a build: one dbt command as a subprocess (the dbt CLI of this environment), its node
results counted from run_results.json, its failures named; and `build`, the commands of a whole build.

dbt's console output streams to the terminal, or is appended to a file (settings.dbt_log, without colour
codes). dbt keeps its parsed project in target/partial_parse.msgpack and parses only the files that changed,
but starts over when the profile it renders (the DuckDB path, temp folder, memory limit) or the --vars
differ from the saved state's: a run of another warehouse, or a benchmark step on its own file, paid a full
parse (15 s at S) on every call. So each profile keeps its own saved state (target/partial_parse/<key>),
put in place before a call and kept after it; dbt still checks it and parses again whatever changed.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from crm_kpi import preflight, raw_load
from crm_kpi.measure import run_measured
from crm_kpi.paths import project_root
from crm_kpi.settings import BuildSettings


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
PARTIAL_PARSE_FILE = "partial_parse.msgpack"
# The variables of the environment that shape dbt's profile (profiles.yml): part of a saved state's key.
PROFILE_VARIABLES = ("CRM_KPI_TARGET", "CRM_KPI_DUCKDB_PATH", "CRM_KPI_DUCKDB_TEMP_DIR", "CRM_KPI_SPARK_WAREHOUSE")


@dataclass
class DbtOutcome:
    command: str
    seconds: float
    counts: Counter[str] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)
    peak_rss_mib: float = 0.0  # the dbt process tree's peak resident memory, sampled (0 where the OS does not say)
    model_seconds: dict[str, float] = field(default_factory=dict)  # each model's execution time, by name


def run_dbt(settings: BuildSettings, args: list[str]) -> DbtOutcome:
    """Run one dbt command against the settings' warehouse; count node results from run_results.json;
    raise DbtFailed naming the failing nodes."""
    command = [str(Path(sys.executable).parent / "dbt"), *args]
    if settings.dbt_vars():
        command += ["--vars", json.dumps(settings.dbt_vars())]
    command += ["--project-dir", str(project_root()), "--profiles-dir", str(project_root())]
    target_dir = settings.target_dir
    if settings.artifacts_dir is not None:
        command += ["--target-path", str(target_dir), "--log-path", str(settings.logs_dir)]
    if settings.quiet:
        command.insert(1, "--quiet")
    settings.db_path.parent.mkdir(parents=True, exist_ok=True)
    results_file = target_dir / "run_results.json"
    results_file.unlink(missing_ok=True)
    workdir = settings.spark_dir if settings.target == "spark" else None
    if workdir is not None:
        workdir.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, **settings.environment()}
    if settings.dbt_log is not None:
        env["DBT_USE_COLORS"] = "false"
        settings.dbt_log.parent.mkdir(parents=True, exist_ok=True)
    elif not sys.stdout.isatty():
        env.setdefault("DBT_USE_COLORS", "false")  # no colour codes in a piped log
    with _saved_parse(settings, env):
        returncode, seconds, peak = run_measured(command, env=env, cwd=workdir, output=settings.dbt_log)
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


def parse_state_key(settings: BuildSettings, env: dict[str, str]) -> str:
    """What a saved parse depends on besides the project's files: the profile's inputs and the --vars."""
    keyed = {name: env.get(name, "") for name in PROFILE_VARIABLES}
    keyed["vars"] = json.dumps(settings.dbt_vars(), sort_keys=True)
    keyed["memory_limit"] = env.get("CRM_KPI_DUCKDB_MEMORY_LIMIT", "")
    return hashlib.sha256(json.dumps(keyed, sort_keys=True).encode()).hexdigest()[:16]


@contextlib.contextmanager
def _saved_parse(settings: BuildSettings, env: dict[str, str]) -> Iterator[None]:
    """Put this profile's saved parse where dbt reads it, and keep what dbt saved after the call. Only a cache:
    dbt checks the saved state (file hashes, profile, vars) and parses again what does not match."""
    live = settings.target_dir / PARTIAL_PARSE_FILE
    kept = settings.target_dir / "partial_parse" / f"{parse_state_key(settings, env)}.msgpack"
    if kept.is_file():
        settings.target_dir.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(kept, live)
    yield
    if live.is_file():
        kept.parent.mkdir(parents=True, exist_ok=True)
        fresh = kept.with_name(f".{kept.name}.{os.getpid()}")
        shutil.copyfile(live, fresh)
        os.replace(fresh, kept)


def _log_tail(settings: BuildSettings) -> str:
    """dbt's own error when no node failed (a failure before any node ran: a hook, a compilation):
    the lines of its log from the last "Encountered an error"."""
    where = f"see {settings.dbt_log}" if settings.dbt_log else "see the dbt log above"
    try:
        lines = (settings.logs_dir / "dbt.log").read_text(encoding="utf-8", errors="replace").splitlines()[-400:]
    except OSError:
        return where
    starts = [index for index, line in enumerate(lines) if "Encountered an error" in line]
    if not starts:
        return where
    kept = [re.sub(r"^.*?\[\w+\]: ", "", line).strip() for line in lines[starts[-1] + 1 : starts[-1] + 12]]
    return "\n  ".join(line for line in kept if line and not line.startswith("> ")) or where


def _short(message: str | None) -> str:
    """A dbt node message without its macro call stack."""
    lines = [line.strip() for line in (message or "").splitlines() if line.strip()]
    kept = [line for line in lines if not line.startswith("> ")]
    return " ".join(kept)[:600]


def build(
    settings: BuildSettings, say: Callable[[str], None] | None = None, check_export: bool = True
) -> list[DbtOutcome]:
    """Check the export against the raw contract (unless the caller did), load the raw data (demo seeds on
    DuckDB, the bulk loader on a server engine) and `dbt build` every model and test. An incremental build whose row
    accounting does not balance (the export changed before the lookback window: an event added,
    removed or changed there, which the incremental staging models do not re-read) is redone as a
    full refresh."""
    if settings.raw_path is not None and check_export:
        preflight.check_raw_folder(settings.raw_path, settings.raw_format)
    outcomes = []
    if settings.target != "duckdb":
        raw_load.load_raw(settings)
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
        (say or raw_load.progress)(
            "the row accounting does not balance after the incremental build, or the rows before the lookback "
            "window are not the same rows as the last run's (the export changed before the window): rebuilding "
            "from scratch"
        )
        outcomes.append(run_dbt(settings, ["build", *excluded, "--full-refresh"]))
    return outcomes
