"""The benchmark's data: a generated raw export (Parquet) and the same export without its last day."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from datetime import date
from pathlib import Path

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


def utc_day(column: str) -> str:
    """DuckDB: the UTC day of a raw text date or timestamp (with or without an offset); null if unparseable."""
    return f"cast(timezone('UTC', try_cast(replace(trim({column}), ' ', 'T') as timestamptz)) as date)"


def _reader(folder: Path, table: str) -> str:
    from crm_kpi.floor import raw_reader

    return raw_reader(folder, "parquet", table)


def last_day(raw_dir: Path) -> date:
    """The last full day of a Parquet raw export: the latest UTC day on which at least a tenth of an
    average day's leads were created (a few timestamps with offsets spill into the next UTC day)."""
    import duckdb

    day = utc_day("created_at")
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
            kept = f"coalesce({utc_day(ARRIVAL_COLUMNS[table])} < date '{day}', true)"
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


def raw_size(folder: Path) -> tuple[int, int]:
    import duckdb

    rows = 0
    with duckdb.connect() as connection:
        for path in folder.glob("*.parquet"):
            row = connection.execute(f"select count(*) from read_parquet('{path}')").fetchone()
            rows += int(row[0]) if row else 0
    return rows, sum(path.stat().st_size for path in folder.glob("*.parquet"))
