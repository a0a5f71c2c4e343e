"""Write-audit-publish, proven by fault injection: a failing dbt test, a failed expectation, a build killed
with SIGKILL half-way and a platform that refuses to replace an open file each leave the published
DuckDB warehouse byte for byte as it was, and fully readable; a reader holding the published file keeps
its snapshot and does not block the build; a second run at once stops with a message; an incremental
run starts from a copy of the published file and publishes."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from crm_kpi import cli, expectations, guard, job, publish
from crm_kpi.paths import project_root
from crm_kpi.settings import BuildSettings

pytestmark = pytest.mark.slow

REQUIRED = Path(__file__).parent / "fixtures" / "required_tables_only"
NEW_LEAD = "lead_9,2025-02-01T10:00:00Z,,referral,usr_1,emea,DE,,,,,,new,,,,2025-02-01T10:00:00Z,\n"


def _export(folder: Path, extra_leads: int = 0) -> Path:
    """The required-tables fixture, with `extra_leads` more leads (each run's export differs)."""
    shutil.copytree(REQUIRED, folder)
    with open(folder / "leads.csv", "a", encoding="utf-8") as leads:
        for number in range(extra_leads):
            leads.write(NEW_LEAD.replace("lead_9", f"lead_9{number}"))
    return folder


def _settings(db_path: Path, raw: Path, artifacts: Path, **changes: object) -> BuildSettings:
    changes = {"unit_tests": False, **changes}  # the unit tests run in the demo seeds' build
    return BuildSettings(db_path=db_path, raw_path=raw, artifacts_dir=artifacts, quiet=True, **changes)  # type: ignore[arg-type]


def _state(db_path: Path) -> tuple[str, int]:
    """The published file's checksum, and its lead count read through a fresh read-only connection."""
    digest = hashlib.sha256(db_path.read_bytes()).hexdigest()
    with duckdb.connect(str(db_path), read_only=True) as connection:
        row = connection.execute("select count(*) from marts.fct_leads").fetchone()
        assert connection.execute("select count(*) from marts.kpi_funnel_conversion").fetchone() is not None
    return digest, int(row[0]) if row else -1


@pytest.fixture(scope="module")
def first_build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A warehouse published by `crm-kpi run` from the required-tables export (2 leads staged)."""
    folder = tmp_path_factory.mktemp("first")
    db_path = folder / "warehouse" / "crm_kpi.duckdb"
    job.run(_settings(db_path, _export(folder / "raw"), folder / "build"), print)
    return db_path


@pytest.fixture()
def published(first_build: Path, tmp_path: Path) -> tuple[Path, tuple[str, int]]:
    """This test's own copy of the published warehouse (same file name: the catalog name), and its state."""
    db_path = tmp_path / "warehouse" / first_build.name
    db_path.parent.mkdir()
    shutil.copyfile(first_build, db_path)
    state = _state(db_path)
    assert state[1] == 2
    return db_path, state


def test_a_failing_dbt_test_publishes_nothing(published: tuple[Path, tuple[str, int]], tmp_path: Path) -> None:
    """A copy of the project with one more singular test, failing on the new export's leads."""
    db_path, before = published
    project = tmp_path / "project"
    project.mkdir()
    for name in ("dbt_project.yml", "profiles.yml", "models", "macros", "tests", "seeds", "analyses"):
        source = project_root() / name
        (shutil.copytree if source.is_dir() else shutil.copyfile)(source, project / name)
    (project / "tests" / "assert_injected_failure.sql").write_text(
        "select lead_id from {{ ref('stg_crm__leads') }} where lead_id like 'lead_9%'\n", encoding="utf-8"
    )
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CRM_KPI_PROJECT_DIR", str(project))
        with pytest.raises(job.JobFailed) as failed:
            job.run(_settings(db_path, _export(tmp_path / "second", 1), tmp_path / "second_build"), print)
    message = str(failed.value)
    assert "assert_injected_failure failed for 1 row(s)" in message
    assert "{'lead_id': 'lead_90'}" in message  # the failing row, kept by the rerun with --store-failures
    assert f"Nothing was published: {db_path} is unchanged" in message
    assert _state(db_path) == before


def test_a_failed_expectation_publishes_nothing(published: tuple[Path, tuple[str, int]], tmp_path: Path) -> None:
    db_path, before = published
    from great_expectations import expectations as gxe

    real = expectations.build_suite

    def with_an_impossible_expectation(mart):  # type: ignore[no-untyped-def]
        suite = real(mart)
        suite.expectations.append(gxe.ExpectTableRowCountToEqual(value=-1))
        return suite

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(expectations, "build_suite", with_an_impossible_expectation)
        with pytest.raises(job.JobFailed, match=r"Great Expectations: \d+ failed expectation"):
            job.run(_settings(db_path, _export(tmp_path / "second", 1), tmp_path / "second_build"), print)
    assert _state(db_path) == before


def test_a_build_killed_half_way_publishes_nothing(published: tuple[Path, tuple[str, int]], tmp_path: Path) -> None:
    db_path, before = published
    raw = _export(tmp_path / "second", 1)
    log = tmp_path / "run.log"
    command = [sys.executable, "-m", "crm_kpi.cli", "run", "--verbose", "--db", str(db_path), "--raw-path", str(raw)]
    env = {**os.environ, "PYTHONPATH": str(project_root() / "src")}
    with open(log, "w", encoding="utf-8") as output:
        run = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT, env=env, start_new_session=True)
        deadline = time.monotonic() + 300
        # A table or, on a raw path, an incremental model (it keeps the rows of an unchanged file).
        while not re.search(r"created sql \w+ model staging\.base_crm__users", log.read_text(encoding="utf-8")):
            assert run.poll() is None and time.monotonic() < deadline, log.read_text(encoding="utf-8")
            time.sleep(0.2)
        os.killpg(run.pid, signal.SIGKILL)  # the job and its dbt process, mid-build
        run.wait()
    _wait_until_gone(run.pid)
    assert publish.candidate_path(db_path).exists(), "the kill came while the candidate was being built"
    assert _state(db_path) == before
    # The killed run left no lock: the next run builds and publishes.
    job.run(_settings(db_path, raw, tmp_path / "third_build"), print)
    assert _state(db_path)[1] == 3


def _wait_until_gone(group: int) -> None:
    """Until no process of the killed group is left (the dbt child dies a moment after its parent)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            os.killpg(group, 0)
        except ProcessLookupError:
            return
        time.sleep(0.2)
    raise AssertionError(f"process group {group} still alive")


def test_a_reader_keeps_its_snapshot_and_does_not_block(
    published: tuple[Path, tuple[str, int]], tmp_path: Path
) -> None:
    db_path, before = published
    reader_code = (
        "import duckdb, sys\n"
        f"connection = duckdb.connect({str(db_path)!r}, read_only=True)\n"
        "count = lambda: connection.execute('select count(*) from marts.fct_leads').fetchone()[0]\n"
        "print(count(), flush=True)\n"
        "sys.stdin.readline()\n"
        "print(count(), flush=True)\n"
    )
    reader = subprocess.Popen(
        [sys.executable, "-c", reader_code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert reader.stdout is not None and reader.stdin is not None
        assert reader.stdout.readline().strip() == "2"
        result = job.run(_settings(db_path, _export(tmp_path / "second", 2), tmp_path / "second_build"), print)
        reader.stdin.write("again\n")
        reader.stdin.flush()
        assert reader.stdout.readline().strip() == "2", "the reader keeps the snapshot it opened"
    finally:
        reader.kill()
        reader.wait()
    assert _state(db_path)[1] == 4, "a new reader sees the published build"
    # The run was incremental: it started from a copy of the published file.
    assert result.publication is not None and result.publication.copied_bytes > 0


def test_a_second_run_at_once_stops_with_a_message(published: tuple[Path, tuple[str, int]], tmp_path: Path) -> None:
    db_path, before = published
    locked = r"another crm-kpi run is building .*crm_kpi\.duckdb \(pid \d+"
    with publish.duckdb_run_lock(db_path), pytest.raises(publish.RunLocked, match=locked):
        job.run(_settings(db_path, _export(tmp_path / "second", 1), tmp_path / "second_build"), print)
    assert _state(db_path) == before


def test_a_platform_that_refuses_to_replace_an_open_file_keeps_the_build_aside(
    published: tuple[Path, tuple[str, int]], tmp_path: Path
) -> None:
    """As on Windows, where a reader's open file cannot be replaced: the validated build stays aside,
    `crm-kpi publish` publishes it once the readers are gone."""
    db_path, before = published
    real_replace = os.replace

    def refuse(source: object, target: object) -> None:
        if Path(str(target)) == db_path:
            raise PermissionError(13, "The process cannot access the file because it is being used by another process")
        real_replace(source, target)  # type: ignore[arg-type]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(publish.os, "replace", refuse)
        with pytest.raises(publish.PublishError, match=r"a reader holds it open.*kept in .*crm-kpi publish"):
            job.run(_settings(db_path, _export(tmp_path / "second", 1), tmp_path / "second_build"), print)
    assert _state(db_path) == before
    assert cli.main(["publish", "--db", str(db_path)]) == 0
    assert _state(db_path)[1] == 3
    assert not publish.build_dir(db_path).exists()


# ------------------------------------------------------------------------------- read-write sessions, WAL

SESSION = (
    "import duckdb, os, sys\n"
    "connection = duckdb.connect(sys.argv[1])\n"
    "print('open', flush=True)\n"
    "sys.stdin.readline()\n"
    "connection.execute('create table main.scratch as select 1 as x')\n"
    "print('wrote', flush=True)\n"
    "sys.stdin.readline()\n"
    "os._exit(9)\n"
)


def _session(db_path: Path) -> subprocess.Popen[str]:
    """A read-write DuckDB session on the file (as a BI tool or a shell opened without read_only)."""
    session = subprocess.Popen(
        [sys.executable, "-c", SESSION, str(db_path)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert session.stdout is not None and session.stdout.readline().strip() == "open"
    return session


def _step(session: subprocess.Popen[str], expect: str | None) -> None:
    assert session.stdin is not None and session.stdout is not None
    session.stdin.write("go\n")
    session.stdin.flush()
    if expect:
        assert session.stdout.readline().strip() == expect


def test_a_writer_only_is_seen_by_the_probe(published: tuple[Path, tuple[str, int]]) -> None:
    db_path, _ = published
    assert not publish.held_by_writer(db_path)
    with duckdb.connect(str(db_path), read_only=True):
        assert not publish.held_by_writer(db_path), "a reader in this process"
    session = _session(db_path)
    try:
        assert publish.held_by_writer(db_path)
    finally:
        session.kill()
        session.wait()
    assert not publish.held_by_writer(db_path)


def test_a_read_write_session_opened_during_a_run_stops_the_publish_and_doctor_repairs_its_wal(
    published: tuple[Path, tuple[str, int]], tmp_path: Path
) -> None:
    """A session opens the published file read-write while the run builds: the run does not publish (its
    later writes would go to a WAL the new file replays), names it, and keeps the validated build. The
    session writes and dies: its WAL, held by no process, is named as such (not as a writer) by the run,
    `crm-kpi publish` and `crm-kpi doctor`; `doctor --repair` moves it aside, and the build is published."""
    db_path, before = published
    sessions: list[subprocess.Popen[str]] = []
    real_mark = publish.mark_validated

    def mark_then_open(path: Path) -> None:
        real_mark(path)
        sessions.append(_session(db_path))

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(publish, "mark_validated", mark_then_open)
        with pytest.raises(publish.PublishError) as refused:
            job.run(_settings(db_path, _export(tmp_path / "second", 1), tmp_path / "second_build"), print)
    session = sessions[0]
    assert str(refused.value) == (
        f"{db_path} is open for writing by another process (a read-write DuckDB session: BI tools and shells "
        f"should open it read-only): close it; the validated build is kept in {publish.build_dir(db_path)}: "
        "then run `crm-kpi publish`"
    )
    _step(session, "wrote")
    _step(session, None)
    session.wait()
    wal = publish.wal_of(db_path)
    assert wal.exists() and not publish.held_by_writer(db_path)
    assert cli.main(["publish", "--db", str(db_path)]) == 1
    with pytest.raises(publish.PublishError, match=r"has a write-ahead log beside it .* that no process holds"):
        publish.check_no_writer(db_path)
    assert cli.main(["doctor", "--db", str(db_path)]) == 1
    assert wal.exists(), "doctor without --repair changes nothing"
    healthy, found = publish.doctor(db_path, repair=True)
    assert healthy and found[1].startswith(f"moved aside to {wal.name}.stale-") and found[2] == f"{db_path} opens"
    assert not wal.exists() and len(list(db_path.parent.glob(f"{wal.name}.stale-*"))) == 1
    assert cli.main(["doctor", "--db", str(db_path)]) == 0
    assert cli.main(["publish", "--db", str(db_path)]) == 0
    assert _state(db_path)[1] == 3 and _state(db_path) != before


# ------------------------------------------------------------------------------------------ publish guard


def _guard_export(folder: Path, quarantined: int = 0, non_usd: int = 0) -> Path:
    """The required-tables fixture with 40 more leads and 40 more deals of 100 USD won before the as-of date (the
    last creation date, 2025-02-11): enough rows for the guard to judge. `quarantined` of the leads have an
    unknown channel, `non_usd` of the deals are in euros, which the export has no exchange rate for."""
    raw = _export(folder)
    with (
        open(raw / "leads.csv", "a", encoding="utf-8") as leads,
        open(raw / "opportunities.csv", "a", encoding="utf-8") as deals,
    ):
        for number in range(40):
            channel = "tv" if number < quarantined else "referral"
            leads.write(NEW_LEAD.replace("lead_9", f"lead_g{number}").replace(",referral,", f",{channel},"))
            currency = "EUR" if number < non_usd else "USD"
            deals.write(
                f"opp_g{number},acc_1,usr_1,,new_business,2025-02-01T00:00:00Z,2025-02-05,closed_won,100,{currency},"
                ",,2025-02-05T00:00:00Z,false\n"
            )
    return raw


def test_the_publish_guard_stops_a_build_whose_figures_move_past_their_thresholds(tmp_path: Path) -> None:
    """Half the leads quarantined and the deals in a currency without a rate (bookings more than halved): every
    test passes, the guard stops the run naming each table and figure; --accept-changes publishes it."""
    db_path = tmp_path / "warehouse" / "crm_kpi.duckdb"
    job.run(_settings(db_path, _guard_export(tmp_path / "first"), tmp_path / "first_build"), print)
    before = _state(db_path)
    assert before[1] == 42
    changed = _guard_export(tmp_path / "second", quarantined=30, non_usd=30)
    with pytest.raises(job.JobFailed) as stopped:
        job.run(_settings(db_path, changed, tmp_path / "second_build"), print)
    message = str(stopped.value)
    for line in (
        "the publish guard stopped the run: every test passed, but",
        "leads: 31 of the file's 44 rows quarantined (70.5%), above publish_max_quarantine_share = 0.1 "
        "(see audit.audit_crm__quarantined_rows)",
        "opportunities: 30 of the file's 42 rows quarantined (71.4%), above publish_max_quarantine_share = 0.1",
        "marts.fct_leads: 12 rows, 42 published (-71.4%), beyond publish_max_row_change = 0.5",
        "marts.fct_opportunities: 12 rows, 42 published (-71.4%), beyond publish_max_row_change = 0.5",
        "bookings (amount of the deals won by the as-of date, marts.fct_opportunities): 1,000.00, 4,000.00 "
        "published (-75.0%), beyond publish_max_kpi_change = 0.25",
        "won deals (marts.fct_opportunities): 10.00, 40.00 published (-75.0%), beyond publish_max_kpi_change = 0.25",
        "leads (marts.fct_leads): 12.00, 42.00 published (-71.4%), beyond publish_max_kpi_change = 0.25",
        f"Nothing was published: {db_path} is unchanged.",
    ):
        assert line in message
    assert _state(db_path) == before
    result = job.run(_settings(db_path, changed, tmp_path / "third_build", accept_changes=True), print)
    assert result.publication is not None and _state(db_path)[1] == 12


def test_the_guard_judges_only_tables_big_enough_and_the_first_build_by_its_quarantine() -> None:
    limit = {
        "publish_max_quarantine_share": 0.1,
        "publish_max_row_change": 0.5,
        "publish_max_kpi_change": 0.25,
        "publish_guard_min_rows": 20,
    }
    candidate = guard.Figures(
        {"leads": (19, 10), "users": (20, 3)},
        {"fct_leads": 5, "dim_reps": 31},
        {"k": ("dim_reps", 74.0), "small": ("fct_leads", 1.0)},
    )
    published = guard.Figures(
        {}, {"fct_leads": 19, "dim_reps": 20}, {"k": ("dim_reps", 100.0), "small": ("fct_leads", 9.0)}
    )
    assert guard.breaches(candidate, None, limit) == [
        "users: 3 of the file's 20 rows quarantined (15.0%), above publish_max_quarantine_share = 0.1 "
        "(see audit.audit_crm__quarantined_rows)"
    ]
    assert guard.breaches(candidate, published, limit)[1:] == [
        "marts.dim_reps: 31 rows, 20 published (+55.0%), beyond publish_max_row_change = 0.5",
        "k: 74.00, 100.00 published (-26.0%), beyond publish_max_kpi_change = 0.25",
    ]


def test_the_guards_thresholds_are_vars_checked_where_read(tmp_path: Path) -> None:
    settings = BuildSettings(db_path=tmp_path / "w.duckdb")
    assert guard.limits(settings) == {
        "publish_max_quarantine_share": 0.1,
        "publish_max_row_change": 0.5,
        "publish_max_kpi_change": 0.25,
        "publish_guard_min_rows": 20,
    }
    settings.extra_vars = {"publish_max_quarantine_share": "half"}
    with pytest.raises(ValueError, match="var publish_max_quarantine_share = 'half' is not valid"):
        guard.limits(settings)
