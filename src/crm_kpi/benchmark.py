"""`crm-kpi benchmark`: how fast the warehouse builds a data set of a chosen size, against the floor.

For a size (demo, S = 1M leads, M = 10M leads, or any number of leads) it generates the raw data once
(Parquet, under warehouse/benchmark/<size>/full) and derives the same data without its last day
(base/), then measures, each step a separate process (wall time and that process's peak RSS):

1. models       `dbt run --full-refresh` of every model (79: staging, facts, KPI marts, audit) on base/
                into a new DuckDB file;
2. kpi models   the same for only the models the five KPI marts are built from (`+path:models/marts/kpi`):
                the work the floor does too;
3. build        `dbt build --full-refresh` (models and every data and unit test) into another new file;
4. floor        one hand-written DuckDB SQL script (src/crm_kpi/floor.sql) that computes the same five
                KPI tables from the same files: what DuckDB itself can do; ratios models / floor and
                kpi models / floor;
5. incremental  the raw folder switched to full/ (base + the last day: new rows, late rows, re-exports),
                then `dbt run` on the database of step 3, whose event facts are incremental;
                ratio = incremental / models.

It prints a table, with each dbt step's slowest models (dbt's run_results timings: where the time
goes), and writes the figures as JSON (default: warehouse/benchmark/<size>/results.json).
No timing is asserted anywhere: the numbers are for people to read and compare between runs.
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

from crm_kpi.dbt_invoke import run_dbt
from crm_kpi.measure import run_measured
from crm_kpi.paths import project_root
from crm_kpi.settings import BuildSettings

SIZES = {"demo": 3_000, "S": 1_000_000, "M": 10_000_000}
SLOWEST_SHOWN = 5  # models listed per dbt step (from run_results.json), where the time goes
# When a row of a raw table arrives: the column whose day puts it in "the last day" of an export. Tables
# not listed (configuration, line items, memberships, ...) arrive whole.
ARRIVAL_COLUMNS = {
    "leads": "created_at",
    "accounts": "created_at",
    "opportunities": "created_at",
    "lead_status_history": "changed_at",
    "campaign_touches": "touched_at",
    "opportunity_stage_history": "changed_at",
    "activities": "occurred_at",
    "invoices": "issued_on",
    "refunds": "refunded_on",
    "subscriptions": "period_start",
    "campaign_spend": "spend_date",
    "survey_responses": "responded_at",
    "employee_survey_responses": "responded_at",
    "competitor_prices": "observed_on",
    "exchange_rates": "rate_date",
}


@dataclass
class Step:
    name: str
    seconds: float
    peak_rss_mib: float
    detail: str = ""
    slowest: dict[str, float] = field(default_factory=dict)  # dbt steps: the slowest models, seconds each


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


def _utc_day(column: str) -> str:
    """DuckDB: the UTC day of a raw text date or timestamp (with or without an offset); null if unparseable."""
    return f"cast(timezone('UTC', try_cast(replace(trim({column}), ' ', 'T') as timestamptz)) as date)"


def _reader(folder: Path, table: str) -> str:
    from crm_kpi.floor import raw_reader

    return raw_reader(folder, "parquet", table)


def last_day(raw_dir: Path) -> date:
    """The last full day of a Parquet raw export: the latest UTC day on which at least a tenth of an
    average day's leads were created (a few timestamps with offsets spill into the next UTC day)."""
    import duckdb

    day = _utc_day("created_at")
    with duckdb.connect() as connection:
        connection.execute("set TimeZone = 'UTC'")
        row = connection.execute(
            f"""
            with days as (
                select {day} as day, count(*) as leads from {_reader(raw_dir, "leads")} group by all
            )
            select max(day) from days where day is not null and leads >= (select avg(leads) / 10 from days)
            """
        ).fetchone()
    if row is None or row[0] is None:
        raise ValueError(f"no dated leads in {raw_dir}")
    return date.fromisoformat(str(row[0]))


def split_off_last_day(full_dir: Path, base_dir: Path) -> date:
    """Write base_dir: the Parquet export in full_dir without the rows that arrived on its last day
    (and the few after it).

    Entity tables keep their rows (their last version) except the records created that day; event
    tables lose the day's events. Returns the last day."""
    import duckdb

    day = last_day(full_dir)
    base_dir.mkdir(parents=True, exist_ok=True)
    with duckdb.connect() as connection:
        connection.execute("set TimeZone = 'UTC'")
        for path in sorted(full_dir.glob("*.parquet")):
            table = path.stem
            target = base_dir / path.name
            if table not in ARRIVAL_COLUMNS:
                shutil.copyfile(path, target)
                continue
            kept = f"coalesce({_utc_day(ARRIVAL_COLUMNS[table])} < date '{day}', true)"
            connection.execute(
                f"copy (select * from {_reader(full_dir, table)} where {kept}) to '{target}' "
                "(format parquet, compression zstd)"
            )
    return day


def prepare_data(size: str, leads: int, root: Path, say: Callable[[str], None]) -> tuple[Path, Path]:
    """full/ (generated once, Parquet) and base/ (full/ without its last day) for a size."""
    from crm_kpi.generator import generate

    full_dir, base_dir = root / "full", root / "base"
    done = root / ".data-complete"
    if not done.exists():
        shutil.rmtree(full_dir, ignore_errors=True)
        shutil.rmtree(base_dir, ignore_errors=True)
        say(f"generating {leads:,} leads as Parquet into {full_dir}")
        generate(full_dir, leads=leads, fmt="parquet", progress=say)
        day = split_off_last_day(full_dir, base_dir)
        say(f"base/ = full/ without its last day, {day}")
        done.write_text(str(day))
    return full_dir, base_dir


def _raw_size(folder: Path) -> tuple[int, int]:
    import duckdb

    rows = 0
    with duckdb.connect() as connection:
        for path in folder.glob("*.parquet"):
            row = connection.execute(f"select count(*) from read_parquet('{path}')").fetchone()
            rows += int(row[0]) if row else 0
    return rows, sum(path.stat().st_size for path in folder.glob("*.parquet"))


def _dbt_step(name: str, settings: BuildSettings, args: list[str], result: BenchmarkResult) -> None:
    outcome = run_dbt(settings, args)
    models = sum(count for key, count in outcome.counts.items() if key.startswith("model:"))
    tests = sum(count for key, count in outcome.counts.items() if key.startswith(("test:", "unit_test:")))
    detail = f"{models} models" + (f", {tests} tests" if tests else "")
    by_time = sorted(outcome.model_seconds.items(), key=lambda item: -item[1])
    slowest = {model: round(seconds, 2) for model, seconds in by_time[:SLOWEST_SHOWN]}
    result.steps.append(Step(name, outcome.seconds, outcome.peak_rss_mib, detail, slowest))


def _floor_step(db_path: Path, raw_dir: Path, as_of: date, memory_limit: str, result: BenchmarkResult) -> None:
    db_path.unlink(missing_ok=True)
    command = [sys.executable, "-m", "crm_kpi.benchmark", "--floor", str(db_path), str(raw_dir), as_of.isoformat()]
    env = {**os.environ, "CRM_KPI_DUCKDB_MEMORY_LIMIT": memory_limit}
    returncode, seconds, peak = run_measured(command, env=env)
    if returncode != 0:
        raise RuntimeError(f"the floor script failed (exit {returncode})")
    result.steps.append(Step("floor", seconds, peak, "hand-written DuckDB SQL, 5 KPI tables"))


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
    raw_rows, raw_bytes = _raw_size(full_dir)
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

    for name in ("models.duckdb", "kpi.duckdb", "build.duckdb"):
        (root / name).unlink(missing_ok=True)
    say("1/5 dbt run --full-refresh (every model)")
    _dbt_step("models", settings("models.duckdb", base_dir), ["run", "--full-refresh"], result)
    say("2/5 dbt run --full-refresh of the models the KPI marts need")
    kpi_only = ["run", "--full-refresh", "--select", "+path:models/marts/kpi"]
    _dbt_step("kpi models", settings("kpi.duckdb", base_dir), kpi_only, result)
    (root / "kpi.duckdb").unlink(missing_ok=True)
    if with_tests:
        say("3/5 dbt build --full-refresh (every model and test)")
        _dbt_step("build", settings("build.duckdb", base_dir), ["build", "--full-refresh"], result)
    else:  # the incremental run starts from the models-only database
        shutil.copyfile(root / "models.duckdb", root / "build.duckdb")
    say("4/5 the hand-written floor")
    _floor_step(root / "floor_script.duckdb", base_dir, _as_of(root / "models.duckdb"), memory_limit, result)
    say("5/5 one more day of data, dbt run (incremental event facts)")
    _dbt_step("incremental", settings("build.duckdb", full_dir), ["run"], result)

    models, floor = result.step("models").seconds, result.step("floor").seconds
    result.ratios = {
        "models / floor": models / floor,
        "kpi models / floor": result.step("kpi models").seconds / floor,
        "incremental / models": result.step("incremental").seconds / models,
    }
    if with_tests:
        result.ratios["build / floor"] = result.step("build").seconds / floor
    json_path = json_path or root / "results.json"
    json_path.parent.mkdir(parents=True, exist_ok=True)
    json_path.write_text(json.dumps(asdict(result), indent=2) + "\n", encoding="utf-8")
    return result


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
        f"  {'step':<12} {'seconds':>9} {'peak RSS MiB':>13}  detail",
    ]
    lines += [f"  {s.name:<12} {s.seconds:>9.1f} {s.peak_rss_mib:>13,.0f}  {s.detail}" for s in result.steps]
    lines += [
        f"  slowest in {s.name}: " + ", ".join(f"{node} {seconds:.1f} s" for node, seconds in s.slowest.items())
        for s in result.steps
        if s.slowest
    ]
    lines += [f"  {name:<24} {value:>6.2f}" for name, value in result.ratios.items()]
    return "\n".join(lines)


def _floor_main(argv: list[str]) -> int:
    """`python -m crm_kpi.benchmark --floor DB RAW_DIR AS_OF`: run the floor script (a measured child)."""
    from crm_kpi.floor import run_floor

    db_path, raw_dir, as_of = Path(argv[0]), Path(argv[1]), date.fromisoformat(argv[2])
    started = time.perf_counter()
    rows = run_floor(db_path, raw_dir, "parquet", as_of)
    print(f"floor: {sum(rows.values())} rows in {len(rows)} tables, {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--floor":
        sys.exit(_floor_main(sys.argv[2:]))
    sys.exit("usage: crm-kpi benchmark (see crm-kpi benchmark --help)")
