"""Write-audit-publish on PostgreSQL (a throwaway server): `crm-kpi run` builds in `_build_*` schemas and
swaps them over the published ones in one transaction; a failed expectation publishes nothing; a second
run at once stops; a session reading the published marts does not block the swap; the read-only BI role
created by `crm-kpi grant-bi-role` reads the marts and nothing else, after every publish."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from crm_kpi import cli, expectations, job, publish
from crm_kpi.loaders import PostgresSettings
from crm_kpi.settings import BuildSettings
from engines import postgres_environment, throwaway_postgres

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

REQUIRED = Path(__file__).parent / "fixtures" / "required_tables_only"
NEW_LEAD = "lead_9,2025-02-01T10:00:00Z,,referral,usr_1,emea,DE,,,,,,new,,,,2025-02-01T10:00:00Z,\n"


@pytest.fixture(scope="module")
def server() -> Iterator[PostgresSettings]:
    with throwaway_postgres() as settings, pytest.MonkeyPatch.context() as patch:
        for key, value in postgres_environment(settings).items():
            patch.setenv(key, value)
        patch.setenv("CRM_KPI_BI_PASSWORD", "read-only secret")
        yield settings


@pytest.fixture(scope="module")
def published(server: PostgresSettings, tmp_path_factory: pytest.TempPathFactory) -> PostgresSettings:
    """A first publish of the required-tables export (2 leads staged)."""
    _run(tmp_path_factory.mktemp("first"))
    return server


def _export(folder: Path, extra_leads: int = 0) -> Path:
    shutil.copytree(REQUIRED, folder)
    with open(folder / "leads.csv", "a", encoding="utf-8") as leads:
        for number in range(extra_leads):
            leads.write(NEW_LEAD.replace("lead_9", f"lead_9{number}"))
    return folder


def _run(folder: Path, extra_leads: int = 0) -> job.JobResult:
    settings = BuildSettings(
        db_path=folder / "unused.duckdb",
        raw_path=_export(folder / "raw", extra_leads),
        target="postgres",
        artifacts_dir=folder,
        unit_tests=False,
        quiet=True,
    )
    return job.run(settings, print)


def _query(settings: PostgresSettings, sql: str) -> list[tuple[object, ...]]:
    connection = settings.connect()
    try:
        with connection.cursor() as cursor:
            cursor.execute(sql)
            return list(cursor.fetchall())
    finally:
        connection.close()


def _leads(settings: PostgresSettings) -> int:
    return int(str(_query(settings, "select count(*) from marts.fct_leads")[0][0]))


def test_publish_swaps_schemas_and_the_bi_role_reads_only_marts(published: PostgresSettings, tmp_path: Path) -> None:
    server = published
    assert _leads(server) == 2
    schemas = {str(row[0]) for row in _query(server, "select nspname from pg_namespace")}
    assert {"raw", "staging", "intermediate", "marts", "audit"} <= schemas
    assert not {name for name in schemas if name.startswith(("_build_", "_old_"))}

    assert cli.main(["grant-bi-role", "--role", "crm_bi"]) == 0
    reader = PostgresSettings(server.host, server.port, "crm_bi", "read-only secret", server.dbname)
    assert _leads(reader) == 2
    with pytest.raises(Exception, match="permission denied to create temporary tables"):
        _query(reader, "create temporary table scratch (x integer)")
    for table in (
        "staging.stg_crm__leads",
        "audit.audit_crm__quarantined_rows",
        "raw.leads",
        "intermediate.int_as_of_dates",
    ):
        with pytest.raises(Exception, match="permission denied"):
            _query(reader, f"select count(*) from {table}")

    # The next publish grants the new marts again (the role is found by CRM_KPI_BI_ROLE).
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CRM_KPI_BI_ROLE", "crm_bi")
        result = _run(tmp_path / "second", extra_leads=1)
    assert result.publication is not None and result.publication.copied_bytes > 0  # incremental tables copied
    assert _leads(reader) == 3


def test_a_failed_expectation_publishes_nothing(published: PostgresSettings, tmp_path: Path) -> None:
    server = published
    before = _query(server, "select * from marts.fct_leads order by lead_id")
    from great_expectations import expectations as gxe

    real = expectations.build_suite

    def with_an_impossible_expectation(mart):  # type: ignore[no-untyped-def]
        suite = real(mart)
        suite.expectations.append(gxe.ExpectTableRowCountToEqual(value=-1))
        return suite

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(expectations, "build_suite", with_an_impossible_expectation)
        with pytest.raises(job.JobFailed, match="Nothing was published: the schemas raw, staging"):
            _run(tmp_path / "second", extra_leads=2)
    assert _query(server, "select * from marts.fct_leads order by lead_id") == before
    assert _query(server, "select count(*) from _build_marts.fct_leads") == [(4,)]  # kept for inspection


def test_a_reader_does_not_block_the_swap_and_a_second_run_stops(published: PostgresSettings, tmp_path: Path) -> None:
    server = published
    count = _leads(server)
    reader = server.connect()  # a BI session in the middle of a transaction on the published marts
    try:
        with reader.cursor() as cursor:
            cursor.execute("begin isolation level repeatable read")
            cursor.execute("select count(*) from marts.fct_leads")
            assert cursor.fetchone() == (count,)
        result = _run(tmp_path / "second", extra_leads=3)
        assert result.publication is not None
        assert any("stay until the next run" in note for note in result.publication.notes)
        assert _leads(server) == 5
    finally:
        reader.close()
    holder = server.connect()
    try:
        with holder.cursor() as cursor:
            cursor.execute("select pg_advisory_lock(%s)", (publish.PG_LOCK_KEY,))
        with pytest.raises(publish.RunLocked, match="another crm-kpi run is building the PostgreSQL database"):
            _run(tmp_path / "third", extra_leads=2)
    finally:
        holder.close()
    _run(tmp_path / "fourth", extra_leads=2)  # the old schemas the reader held go now
    assert _leads(server) == 4
    assert not [row for row in _query(server, "select nspname from pg_namespace") if str(row[0]).startswith("_old_")]
