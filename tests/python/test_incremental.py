"""An incremental run after a day of new data gives exactly the tables of a full refresh of all the data.

The demo export (as Parquet) is cut in two: base/ lacks the last day (crm_kpi.benchmark.split_off_last_day)
and, to exercise the lookback window, a quarter of the activities, touches and status changes of two
days earlier (rows that arrive late). full/ is the whole export plus what the last day's export brings
on top: a soft delete of an old lead (its touches and status changes must leave the incremental facts)
and re-exported duplicates of older activities. base/ is built from scratch, then full/ incrementally
into the same database (the event tables' staging models and facts re-read only their lookback window;
the base models read every raw row at each run, so that row numbers, quarantine and row accounting are
those of the export as it is); full/ is also built from scratch into another; every table of the
staging, marts and audit schemas must be equal, row for row.

An export that is not append-only (an event added before the lookback window) is not lost: the row
accounting, counted from the file, does not balance after the incremental build, and the build is
redone from scratch.
"""

from __future__ import annotations

import json
import re
import shutil
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest

from crm_kpi import dbt_invoke
from crm_kpi.benchmark_data import split_off_last_day, utc_day
from crm_kpi.settings import BuildSettings

INCREMENTAL_FACTS = {
    "fct_campaign_touches": "touched_at",
    "fct_lead_status_changes": "changed_at",
    "fct_opportunity_stage_changes": "changed_at",
    "fct_invoices": "issued_on",
}
# Thin facts: views of their incremental staging model (tables on Spark), nothing to build incrementally.
THIN_FACTS = ("fct_activities",)
# The staging models of the event tables: incremental too (the records with a row in the window).
INCREMENTAL_STAGING = {
    "stg_crm__activities": "occurred_at",
    "stg_crm__campaign_touches": "touched_at",
    "stg_crm__lead_status_history": "changed_at",
    "stg_crm__opportunity_stage_history": "changed_at",
    "stg_crm__invoices": "issued_on",
}
# What a run records about itself differs between an incremental run and a full refresh (the window it
# checked, the last run's figures): only the figures of the data are compared.
RUN_STATE = {
    "audit.audit_crm__event_fingerprints": (
        "table_name, lookback_days, window_start, rows_before_window, fingerprint_before_window, "
        "is_unchanged_before_window"
    )
}
LATE = {"activities": "occurred_at", "campaign_touches": "touched_at", "lead_status_history": "changed_at"}


def _rewrite(path: Path, sql: str) -> None:
    """Replace a Parquet file by `sql` over it (`{t}` in sql: the current file)."""
    staged = path.with_suffix(".new")
    with duckdb.connect() as connection:
        connection.execute("set TimeZone = 'UTC'")
        query = sql.format(t=f"read_parquet('{path}')")
        connection.execute(f"copy ({query}) to '{staged}' (format parquet)")
    staged.replace(path)


def _deleted_lead(raw: Path, before: date) -> str:
    """An old, live lead with touches and status changes: the one the last day's export soft-deletes."""
    with duckdb.connect() as connection:
        row = connection.execute(
            f"""
            select lead_id from read_parquet('{raw / "leads.parquet"}')
            where {utc_day("created_at")} < date '{before}'
            group by lead_id
            having bool_and(coalesce(lower(is_deleted), 'false') = 'false')
                and lead_id in (select lead_id from read_parquet('{raw / "campaign_touches.parquet"}'))
                and lead_id in (select lead_id from read_parquet('{raw / "lead_status_history.parquet"}'))
            order by lead_id
            limit 1
            """
        ).fetchone()
    assert row is not None
    return str(row[0])


@pytest.fixture(scope="module")
def exports(demo_parquet_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, str]:
    root = tmp_path_factory.mktemp("incremental")
    full, base = root / "full", root / "base"
    shutil.copytree(demo_parquet_dir, full)
    last = split_off_last_day(full, base)
    late_day = last - timedelta(days=2)
    for table, column in LATE.items():
        _rewrite(
            base / f"{table}.parquet",
            f"select * from {{t}} where not coalesce({utc_day(column)} = date '{late_day}' "
            f"and hash({column}) % 4 = 0, false)",
        )
    lead_id = _deleted_lead(full, last - timedelta(days=30))
    _rewrite(
        full / "leads.parquet",
        f"select * from {{t}} union all select * replace ('true' as is_deleted, '{last}T12:00:00Z' as updated_at) "
        f"from {{t}} where lead_id = '{lead_id}' qualify row_number() over (order by updated_at desc) = 1",
    )
    _rewrite(
        full / "activities.parquet",
        f"select * from {{t}} union all (select * from {{t}} "
        f"where {utc_day('occurred_at')} = date '{last - timedelta(days=1)}' order by activity_id limit 5)",
    )
    return full, base, lead_id


def _settings(db_path: Path, raw: Path, artifacts: Path, data_tests: bool = True) -> BuildSettings:
    """The builds under test run the data tests (the row accounting's among them); the base and reference
    builds, whose tables are only compared, need not."""
    return BuildSettings(
        db_path=db_path,
        raw_path=raw,
        raw_format="parquet",
        artifacts_dir=artifacts,
        quiet=True,
        unit_tests=False,
        data_tests=data_tests,
    )


def _tables(connection: duckdb.DuckDBPyConnection, catalog: str) -> list[str]:
    rows = connection.execute(
        "select table_schema || '.' || table_name from information_schema.tables "
        f"where table_catalog = '{catalog}' and table_schema in ('staging', 'marts', 'audit') order by 1"
    ).fetchall()
    return [str(row[0]) for row in rows]


@pytest.mark.slow
def test_incremental_run_equals_full_refresh(exports: tuple[Path, Path, str], tmp_path: Path) -> None:
    full, base, lead_id = exports
    incremental_db, refreshed_db = tmp_path / "incremental.duckdb", tmp_path / "refreshed.duckdb"

    dbt_invoke.build(_settings(incremental_db, base, tmp_path / "base", data_tests=False))
    with duckdb.connect(str(incremental_db), read_only=True) as connection:
        before = {
            fact: connection.execute(f"select count(*) from marts.{fact}").fetchone()
            for fact in (*INCREMENTAL_FACTS, *THIN_FACTS)
        }
        deleted_rows = connection.execute(
            f"select count(*) from marts.fct_lead_status_changes where lead_id = '{lead_id}'"
        ).fetchone()
    assert deleted_rows is not None and deleted_rows[0] > 0, "the lead to be deleted must have facts before"

    dbt_invoke.build(_settings(incremental_db, full, tmp_path / "incremental"))
    results = json.loads((tmp_path / "incremental" / "target" / "run_results.json").read_text())
    incremental, kept = set(), set()
    for node in results["results"]:
        model = node["unique_id"].split(".")[-1]
        if not node["unique_id"].startswith("model."):
            continue
        if model.startswith("base_crm__") and "read_parquet" not in node["compiled_code"]:
            kept.add(model)  # its raw file, lookups and query unchanged: nothing re-read
        event_time = INCREMENTAL_FACTS.get(model) or INCREMENTAL_STAGING.get(model)
        if event_time:
            # An incremental run filters on the window start, queried beforehand and written as a literal.
            window_start = re.search(r" >= cast\('\d{4}-\d\d-\d\d ", node["compiled_code"])
            assert window_start, f"{model} was not built incrementally"
            incremental.add(model)
    assert incremental == set(INCREMENTAL_FACTS) | set(INCREMENTAL_STAGING)
    # A file the last day left as it was is not re-read; one it grew is (the comparison below proves both right).
    assert {"base_crm__stages", "base_crm__users"} <= kept and "base_crm__activities" not in kept, kept

    dbt_invoke.build(_settings(refreshed_db, full, tmp_path / "refreshed", data_tests=False))

    with duckdb.connect(str(incremental_db), read_only=True) as connection:
        connection.execute(f"attach '{refreshed_db}' as refreshed (read_only)")
        tables = _tables(connection, "incremental")
        assert tables == _tables(connection, "refreshed")
        assert len(tables) > 20
        problems = []
        for table in tables:
            columns = RUN_STATE.get(table, "*")
            for left, right in (("incremental", "refreshed"), ("refreshed", "incremental")):
                extra = connection.execute(
                    f"select count(*) from (select {columns} from {left}.{table} "
                    f"except all select {columns} from {right}.{table})"
                ).fetchone()
                if extra and extra[0]:
                    problems.append(f"{table}: {extra[0]} row(s) in the {left} build only")
        grown = [
            fact
            for fact, count in before.items()
            if count and (connection.execute(f"select count(*) from marts.{fact}").fetchone() or (0,))[0] > count[0]
        ]
        gone = connection.execute(
            f"select count(*) from marts.fct_lead_status_changes where lead_id = '{lead_id}'"
        ).fetchone()
    assert not problems, "\n".join(problems)
    # The test can fail: the last day did add rows to the event facts, and the deleted lead's rows went.
    assert set(grown) >= {"fct_activities", "fct_campaign_touches", "fct_lead_status_changes"}, grown
    assert gone == (0,)


@pytest.mark.slow
def test_an_event_added_before_the_window_is_not_lost(exports: tuple[Path, Path, str], tmp_path: Path) -> None:
    """An activity dated a month back appears in the export: the incremental staging model does not
    re-read it, the row accounting (from the file) does not balance, and the build is redone from
    scratch: the activity is in the facts and the accounting balances."""
    full, base, _ = exports
    late = tmp_path / "late"
    shutil.copytree(full, late)
    _rewrite(
        late / "activities.parquet",
        "select * from {t} union all (select * replace ('act_late_arrival' as activity_id) from {t} "
        "where try_cast(occurred_at as timestamptz) is not null "
        "order by try_cast(occurred_at as timestamptz) desc offset 3000 limit 1)",
    )
    db_path = tmp_path / "w.duckdb"
    dbt_invoke.build(_settings(db_path, base, tmp_path / "base", data_tests=False))
    said: list[str] = []
    dbt_invoke.build(_settings(db_path, late, tmp_path / "late_build"), say=said.append)
    assert said and "rebuilding from scratch" in said[0]
    with duckdb.connect(str(db_path), read_only=True) as connection:
        found = connection.execute("select count(*) from marts.fct_activities where activity_id = 'act_late_arrival'")
        assert found.fetchone() == (1,)
        assert connection.execute("select bool_and(is_balanced) from audit.audit_crm__row_accounting").fetchone() == (
            True,
        )


@pytest.mark.slow
def test_rows_swapped_before_the_window_are_caught_though_the_counts_balance(
    exports: tuple[Path, Path, str], tmp_path: Path
) -> None:
    """One old activity removed, another old one added and a third changed, all a month before the window: the
    counts balance (file rows, staged rows), but the rows before the window are not the same rows as the last
    run's (audit_crm__event_fingerprints), so the build is redone from scratch: the facts lack the removed
    row, hold the added one and the change."""
    full, base, _ = exports
    with duckdb.connect() as connection:
        picked = connection.execute(
            f"""
            select activity_id from read_parquet('{base / "activities.parquet"}')
            where try_cast(occurred_at as timestamptz) < (
                select max(try_cast(occurred_at as timestamptz)) - interval 30 day
                from read_parquet('{base / "activities.parquet"}')
            ) and outcome = 'positive'
            group by activity_id having count(*) = 1
            order by activity_id limit 3
            """
        ).fetchall()
    removed, copied, changed = (str(row[0]) for row in picked)
    swapped = tmp_path / "swapped"
    shutil.copytree(full, swapped)
    _rewrite(
        swapped / "activities.parquet",
        f"select * replace (case when activity_id = '{changed}' then 'negative' else outcome end as outcome) "
        f"from {{t}} where activity_id <> '{removed}' "
        f"union all select * replace ('act_swapped_in' as activity_id) from {{t}} where activity_id = '{copied}'",
    )
    db_path = tmp_path / "w.duckdb"
    dbt_invoke.build(_settings(db_path, base, tmp_path / "base", data_tests=False))
    said: list[str] = []
    dbt_invoke.build(_settings(db_path, swapped, tmp_path / "swapped_build"), say=said.append)
    assert said and "not the same rows as the last run's" in said[0] and "rebuilding from scratch" in said[0]
    with duckdb.connect(str(db_path), read_only=True) as connection:
        outcomes = dict(
            connection.execute(
                "select activity_id, outcome from marts.fct_activities "
                f"where activity_id in ('{removed}', 'act_swapped_in', '{changed}')"
            ).fetchall()
        )
        assert outcomes == {"act_swapped_in": "positive", changed: "negative"}
        assert connection.execute(
            "select bool_and(is_balanced and is_unchanged_before_window) from audit.audit_crm__row_accounting"
        ).fetchone() == (True,)


@pytest.mark.slow
def test_the_fingerprints_compare_what_the_next_run_leaves_unread(
    exports: tuple[Path, Path, str], tmp_path: Path
) -> None:
    """After an incremental run of an append-only export, each event table's rows before the window that run
    used are the last run's rows (count and fingerprint equal), so nothing is rebuilt."""
    full, base, _ = exports
    db_path = tmp_path / "w.duckdb"
    dbt_invoke.build(_settings(db_path, base, tmp_path / "base", data_tests=False))
    with duckdb.connect(str(db_path), read_only=True) as connection:
        first = connection.execute(
            "select table_name, window_start, rows_before_window, fingerprint_before_window "
            "from audit.audit_crm__event_fingerprints order by 1"
        ).fetchall()
    said: list[str] = []
    dbt_invoke.build(_settings(db_path, full, tmp_path / "full_build"), say=said.append)
    assert said == []
    with duckdb.connect(str(db_path), read_only=True) as connection:
        second = connection.execute(
            "select table_name, checked_window_start, checked_rows, checked_fingerprint, is_unchanged_before_window "
            "from audit.audit_crm__event_fingerprints order by 1"
        ).fetchall()
    assert len(first) == 5 and all(row[2] > 0 for row in first if row[0] != "invoices")
    assert second == [(*row, True) for row in first]
