"""`crm-kpi benchmark`: how fast the warehouse builds a data set of a chosen size, against two floors.

For a size (demo, S = 1M leads, M = 10M leads, or any number of leads) it generates the raw data once
(Parquet, under warehouse/benchmark/<size>/full) and derives the same data without its last day
(base/, see benchmark_data), then measures, each step a separate process (wall time and that
process's peak RSS):

1. models        `dbt run --full-refresh` of every model (staging, facts, KPI marts, audit) on base/
                 into a new DuckDB file;
2. kpi models    the same for only the models the KPI marts are built from (`+path:models/marts/kpi`);
3. floor marts   the same for only the five marts floor.sql computes and the models below them
                 (`--select +kpi_funnel_conversion ...`): like for like with step 6;
4. build         `dbt build --full-refresh` (models and every data and unit test) into another new file;
5. ingest floor  every raw file read once, each column cast to its contract type, a table per file
                 (src/crm_kpi/ingest_floor.py): the least a build that checks every raw row must pay;
6. floor         one hand-written DuckDB SQL script (src/crm_kpi/floor.sql) that computes the same five
                 KPI tables from the same files: what DuckDB itself can do for those marts;
7. incremental   the raw folder switched to full/ (base + the last day: new rows, late rows, re-exports),
                 then `dbt run` on the database of step 4 (or a copy of step 1's).

Ratios: models / ingest floor (the whole build against reading and typing every row once), floor
marts / floor (the five marts' subgraph against the hand-written script), incremental / models.
It prints a table, with each dbt step's slowest models (dbt's run_results timings: where the time
goes), and writes the figures as JSON, every model's seconds included (default:
warehouse/benchmark/<size>/results.json). No timing is asserted anywhere: the numbers are for people
to read and compare between runs.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from pathlib import Path

from crm_kpi.benchmark_data import prepare_data, raw_size
from crm_kpi.dbt_invoke import run_dbt
from crm_kpi.floor import FLOOR_TABLES
from crm_kpi.measure import run_measured
from crm_kpi.paths import project_root
from crm_kpi.settings import BuildSettings

SIZES = {"demo": 3_000, "S": 1_000_000, "M": 10_000_000}
SLOWEST_SHOWN = 5  # models listed per dbt step (from run_results.json), where the time goes


@dataclass
class Step:
    name: str
    seconds: float
    peak_rss_mib: float
    detail: str = ""
    slowest: dict[str, float] = field(default_factory=dict)  # dbt steps: the slowest models, seconds each
    model_seconds: dict[str, float] = field(default_factory=dict)  # dbt steps: every model, seconds each


@dataclass
class BenchmarkResult:
    size: str
    leads: int
    raw_rows: int
    raw_bytes: int
    memory_limit: str
    threads: str
    machine: str
    started_at: str
    steps: list[Step] = field(default_factory=list)
    ratios: dict[str, float] = field(default_factory=dict)

    def step(self, name: str) -> Step:
        return next(step for step in self.steps if step.name == name)


def _dbt_step(name: str, settings: BuildSettings, args: list[str], result: BenchmarkResult) -> None:
    outcome = run_dbt(settings, args)
    models = sum(count for key, count in outcome.counts.items() if key.startswith("model:"))
    tests = sum(count for key, count in outcome.counts.items() if key.startswith(("test:", "unit_test:")))
    detail = f"{models} models" + (f", {tests} tests" if tests else "")
    by_time = sorted(outcome.model_seconds.items(), key=lambda item: -item[1])
    slowest = {model: round(seconds, 2) for model, seconds in by_time[:SLOWEST_SHOWN]}
    every = {model: round(seconds, 2) for model, seconds in by_time}
    result.steps.append(Step(name, outcome.seconds, outcome.peak_rss_mib, detail, slowest, every))


def _floor_step(name: str, argv: list[str], memory_limit: str, detail: str, result: BenchmarkResult) -> None:
    """A floor run as a measured child process: `python -m crm_kpi.benchmark <argv>`."""
    env = {**os.environ, "CRM_KPI_DUCKDB_MEMORY_LIMIT": memory_limit}
    returncode, seconds, peak = run_measured([sys.executable, "-m", "crm_kpi.benchmark", *argv], env=env)
    if returncode != 0:
        raise RuntimeError(f"the {name} failed (exit {returncode})")
    result.steps.append(Step(name, seconds, peak, detail))


def _as_of(db_path: Path) -> date:
    import duckdb

    with duckdb.connect(str(db_path), read_only=True) as connection:
        row = connection.execute("select as_of_date from intermediate.int_as_of_dates").fetchone()
    assert row is not None
    return date.fromisoformat(str(row[0]))


def run_benchmark(
    size: str,
    leads: int | None = None,
    workdir: Path | None = None,
    memory_limit: str = "8GB",
    json_path: Path | None = None,
    say: Callable[[str], None] = print,
    with_tests: bool = True,
) -> BenchmarkResult:
    """Generate (if missing) and measure one size; print nothing but `say` progress; return the figures."""
    leads = leads or SIZES[size]
    root = (workdir or project_root() / "warehouse" / "benchmark") / size
    full_dir, base_dir = prepare_data(size, leads, root, say)
    raw_rows, raw_bytes = raw_size(full_dir)
    result = BenchmarkResult(
        size=size,
        leads=leads,
        raw_rows=raw_rows,
        raw_bytes=raw_bytes,
        memory_limit=memory_limit,
        threads=os.environ.get("CRM_KPI_DUCKDB_THREADS", "2"),
        machine=f"{platform.machine()}, {os.cpu_count()} cores, {_memory_gib():.0f} GiB, {platform.system()}",
        started_at=datetime.now().astimezone().isoformat(timespec="seconds"),
    )

    def settings(db_name: str, raw_dir: Path) -> BuildSettings:
        return BuildSettings(
            db_path=root / db_name,
            raw_path=raw_dir,
            raw_format="parquet",
            artifacts_dir=root / "dbt",
            memory_limit=memory_limit,
            quiet=True,
        )

    for name in ("models.duckdb", "kpi.duckdb", "floor_marts.duckdb", "build.duckdb", "ingest.duckdb"):
        (root / name).unlink(missing_ok=True)
    say("1/7 dbt run --full-refresh (every model)")
    _dbt_step("models", settings("models.duckdb", base_dir), ["run", "--full-refresh"], result)
    say("2/7 dbt run --full-refresh of the models the KPI marts need")
    kpi_only = ["run", "--full-refresh", "--select", "+path:models/marts/kpi"]
    _dbt_step("kpi models", settings("kpi.duckdb", base_dir), kpi_only, result)
    (root / "kpi.duckdb").unlink(missing_ok=True)
    say("3/7 dbt run --full-refresh of the five marts floor.sql computes and the models below them")
    floor_marts = ["run", "--full-refresh", "--select", *(f"+{mart}" for mart in FLOOR_TABLES)]
    _dbt_step("floor marts", settings("floor_marts.duckdb", base_dir), floor_marts, result)
    (root / "floor_marts.duckdb").unlink(missing_ok=True)
    if with_tests:
        say("4/7 dbt build --full-refresh (every model and test)")
        _dbt_step("build", settings("build.duckdb", base_dir), ["build", "--full-refresh"], result)
    else:  # the incremental run starts from the models-only database
        shutil.copyfile(root / "models.duckdb", root / "build.duckdb")
    say("5/7 the ingest floor: every raw file read once and typed")
    ingest = ["--ingest", str(root / "ingest.duckdb"), str(base_dir)]
    _floor_step("ingest floor", ingest, memory_limit, "every raw file read, typed, written once", result)
    (root / "ingest.duckdb").unlink(missing_ok=True)
    say("6/7 the hand-written floor of the five marts")
    (root / "floor_script.duckdb").unlink(missing_ok=True)
    floor = ["--floor", str(root / "floor_script.duckdb"), str(base_dir), _as_of(root / "models.duckdb").isoformat()]
    _floor_step("floor", floor, memory_limit, "hand-written DuckDB SQL, 5 KPI tables", result)
    say("7/7 one more day of data, dbt run (incremental)")
    _dbt_step("incremental", settings("build.duckdb", full_dir), ["run"], result)
    result.ratios = ratios(result)
    json_path = json_path or root / "results.json"
    json_path.parent.mkdir(parents=True, exist_ok=True)
    json_path.write_text(json.dumps(asdict(result), indent=2) + "\n", encoding="utf-8")
    return result


def ratios(result: BenchmarkResult) -> dict[str, float]:
    """Each build against its floor: the whole build against the ingest floor, the five marts' subgraph
    against floor.sql, the incremental run against the full build."""
    models = result.step("models").seconds
    figures = {
        "models / ingest floor": models / result.step("ingest floor").seconds,
        "floor marts / floor": result.step("floor marts").seconds / result.step("floor").seconds,
        "incremental / models": result.step("incremental").seconds / models,
    }
    if any(step.name == "build" for step in result.steps):
        figures["build / ingest floor"] = result.step("build").seconds / result.step("ingest floor").seconds
    return figures


def _memory_gib() -> float:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    except (ValueError, OSError, AttributeError):  # pragma: no cover - not POSIX
        return 0.0


def format_table(result: BenchmarkResult) -> str:
    lines = [
        f"benchmark {result.size}: {result.leads:,} leads, {result.raw_rows:,} raw rows "
        f"({result.raw_bytes / 2**20:,.0f} MiB Parquet); DuckDB memory_limit {result.memory_limit}, "
        f"threads {result.threads}; {result.machine}; {result.started_at}",
        f"  {'step':<13} {'seconds':>9} {'peak RSS MiB':>13}  detail",
    ]
    lines += [f"  {s.name:<13} {s.seconds:>9.1f} {s.peak_rss_mib:>13,.0f}  {s.detail}" for s in result.steps]
    lines += [
        f"  slowest in {s.name}: " + ", ".join(f"{node} {seconds:.1f} s" for node, seconds in s.slowest.items())
        for s in result.steps
        if s.slowest
    ]
    lines += [f"  {name:<24} {value:>6.2f}" for name, value in result.ratios.items()]
    return "\n".join(lines)


def _floor_main(argv: list[str]) -> int:
    """`python -m crm_kpi.benchmark --floor DB RAW_DIR AS_OF` or `--ingest DB RAW_DIR`: a measured floor run."""
    from crm_kpi.floor import run_floor
    from crm_kpi.ingest_floor import run_ingest_floor

    started = time.perf_counter()
    db_path, raw_dir = Path(argv[1]), Path(argv[2])
    if argv[0] == "--floor":
        rows = run_floor(db_path, raw_dir, "parquet", date.fromisoformat(argv[3]))
    else:
        rows = run_ingest_floor(db_path, raw_dir, "parquet")
    print(f"{argv[0][2:]}: {sum(rows.values())} rows in {len(rows)} tables, {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] in ("--floor", "--ingest"):
        sys.exit(_floor_main(sys.argv[1:]))
    sys.exit("usage: crm-kpi benchmark (see crm-kpi benchmark --help)")
