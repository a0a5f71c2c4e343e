"""`crm-kpi run`, written as write-audit-publish (crm_kpi.publish):

0. check the export against the raw contract (crm_kpi.preflight);
1. build a candidate warehouse beside the published one (dbt seed/load + dbt build, every model and dbt test);
2. dbt docs generate on it;
3. the Great Expectations suites on its marts (beside step 2), then the publish guard (crm_kpi.guard);
4. publish it, atomically, only when all of that passed.

Whatever fails (a check, a test, an expectation, the process itself), the published warehouse stays as
it was, and the message names what failed: the file, row and column for a bad export, the model, the
column and the failing rows (kept in the candidate's audit schema) for a dbt test, the mart, column and
values for an expectation. Each phase reports one line with its counts (`say`); dbt's own output goes where
the settings say (a log file, or the terminal). The summary that follows is crm_kpi.summary's.

Spark has no atomic publish (a Hive metastore cannot swap databases): its build writes the published
tables in place, and the job says so.
"""

from __future__ import annotations

import contextlib
import dataclasses
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from crm_kpi import catalogue, guard, manifest, preflight, publish
from crm_kpi.contract import TABLES
from crm_kpi.dbt_invoke import DbtFailed, DbtOutcome, build, run_dbt
from crm_kpi.expectations import (
    DuckDBFrames,
    ExpectationsFailed,
    MartResult,
    MartSource,
    PostgresFrames,
    raise_on_failure,
    validate,
)
from crm_kpi.failures import describe_failed_tests, keep_failing_rows
from crm_kpi.paths import demo_dir, project_root
from crm_kpi.settings import BuildSettings

Say = Callable[[str], None]


@dataclasses.dataclass
class JobResult:
    outcomes: list[DbtOutcome]
    expectations: list[MartResult]
    publication: publish.Publication | None
    absent_files: list[str]
    seconds: float = 0.0


class JobFailed(RuntimeError):
    """The run stopped; the published warehouse is unchanged (the message says what failed)."""


def run(settings: BuildSettings, say: Say) -> JobResult:
    started = time.perf_counter()
    absent = _check_export(settings, say)
    if settings.target == "duckdb":
        result = _run_duckdb(settings, say)
    elif settings.target == "postgres":
        result = _run_postgres(settings, say)
    else:
        say(
            "Spark: no write-audit-publish (a Hive metastore cannot swap databases atomically): the build "
            "writes the published tables in place, and a failed build leaves them partly rebuilt"
        )
        outcomes, _ = _build_docs_validate(settings, None, say)
        result = JobResult(outcomes, [], None, [])
    result.absent_files = absent
    result.seconds = time.perf_counter() - started
    return result


def _check_export(settings: BuildSettings, say: Say) -> list[str]:
    if settings.raw_path is None:
        return []
    absent = preflight.check_raw_folder(settings.raw_path, settings.raw_format)
    present = len(TABLES) - len(absent)
    say(f"0/4 export   {present} of {len(TABLES)} tables match the raw contract ({settings.raw_path})")
    return absent


def counts_line(outcomes: list[DbtOutcome]) -> str:
    """What dbt did, counted: '117 models, 244 data tests, 24 seeds' (and any that did not pass)."""
    counts = sum((outcome.counts for outcome in outcomes), start=Counter[str]())
    done = [
        (counts.get("model:success", 0), "models"),
        (counts.get("test:pass", 0), "data tests passed"),
        (counts.get("unit_test:pass", 0), "unit tests passed"),
        (counts.get("seed:success", 0), "seeds"),
    ]
    other = Counter[str]()
    for key, count in counts.items():
        if key.split(":")[1] not in {"success", "pass"}:
            other[key.split(":")[1]] += count  # no-op (a hook, an ephemeral model), warn, skipped
    parts = [f"{count} {what}" for count, what in done if count] + [f"{n} {status}" for status, n in other.items()]
    return ", ".join(parts) or "nothing to do"


def _build_docs_validate(
    candidate: BuildSettings, gx_docs: Path | None, say: Say, gx_schema: str = "marts"
) -> tuple[list[DbtOutcome], list[MartResult]]:
    """Steps 1-3 on the candidate; raise JobFailed naming what failed. Great Expectations is imported
    while dbt builds, and its suites run while `dbt docs generate` does (both are subprocess-bound or
    in-process on the other core): the marts are read before the docs command opens the DuckDB file."""
    where = "the demo set" if candidate.raw_path in (None, demo_dir()) else str(candidate.raw_path)
    output = f"dbt's output in {candidate.dbt_log}" if candidate.dbt_log else "dbt's output below"
    say(f"1/4 build    dbt build of a candidate from {where} ({output})")
    importing = threading.Thread(target=_import_great_expectations, daemon=True) if gx_docs else None
    if importing is not None:
        importing.start()
    started = time.perf_counter()
    try:
        outcomes = build(candidate, say, check_export=False)
    except DbtFailed as error:
        stored = keep_failing_rows(candidate, error.results)
        raise JobFailed(f"{error}{describe_failed_tests(candidate, stored)}") from error
    say(f"1/4 build    {counts_line(outcomes)} in {time.perf_counter() - started:.1f} s")
    marts = manifest.built_marts(candidate.target_dir)
    overview = catalogue.write_overview(project_root(), catalogue.index(marts))
    kpi_marts = [mart for mart in marts if mart.is_kpi]
    source = _mart_source(candidate, gx_schema, kpi_marts) if gx_docs else None
    docs: dict[str, DbtOutcome | DbtFailed] = {}
    # --no-compile: the build just compiled every node; the docs keep its compiled SQL. But then dbt embeds the
    # build's manifest as it is, parsed before the front page was written: on the first run (or when the KPIs
    # changed) compile again, which parses the new page and writes the manifest the docs embed.
    built = manifest.load(manifest.manifest_path(candidate.target_dir))
    compile_again = not catalogue.overview_in_manifest(built, overview.read_text(encoding="utf-8"))
    generating = threading.Thread(target=_generate_docs, args=(candidate, docs, compile_again, say), daemon=True)
    generating.start()
    results: list[MartResult] = []
    failed: ExpectationsFailed | None = None
    if source is None or gx_docs is None:
        say("3/4 validate not run on Spark (the dbt tests ran there; GX runs on DuckDB and PostgreSQL)")
    else:
        started = time.perf_counter()
        if importing is not None:
            importing.join()
        try:
            results = raise_on_failure(validate(source, gx_docs, kpi_marts))
        except ExpectationsFailed as error:
            failed = error
        else:
            evaluated = sum(result.evaluated for result in results)
            seconds = time.perf_counter() - started
            say(f"3/4 validate {evaluated} expectations passed in {len(results)} suites in {seconds:.1f} s")
    generating.join()
    outcome = docs.get("outcome")
    if isinstance(outcome, DbtFailed):
        raise JobFailed(str(outcome)) from outcome
    if failed is not None:
        raise JobFailed(str(failed)) from failed
    assert isinstance(outcome, DbtOutcome)
    return [*outcomes, outcome], results


def _import_great_expectations() -> None:
    """Pay GX's import (seconds) while dbt builds in its subprocess."""
    with contextlib.suppress(Exception):  # the validation step imports it again and reports any error
        import great_expectations  # noqa: F401


def _generate_docs(
    candidate: BuildSettings, into: dict[str, DbtOutcome | DbtFailed], compile_again: bool, say: Say
) -> None:
    try:
        compiling = [] if compile_again else ["--no-compile"]
        outcome = run_dbt(candidate, ["docs", "generate", "--static", *compiling])
        into["outcome"] = outcome
        say(f"2/4 docs     dbt docs generate (the KPI catalogue as its front page) in {outcome.seconds:.1f} s")
    except DbtFailed as error:
        into["outcome"] = error


def _mart_source(candidate: BuildSettings, schema: str, marts: list[manifest.Mart]) -> MartSource:
    """Where GX reads the marts: PostgreSQL through psycopg2; DuckDB read into pandas now and closed, so
    that `dbt docs generate` can open the file (DuckDB lets one process write or many read)."""
    if candidate.target == "postgres":
        from crm_kpi.loaders import PostgresSettings

        return PostgresFrames(PostgresSettings.from_environment().connect, schema)
    return DuckDBFrames(candidate.db_path, schema, preload=marts)


def _run_duckdb(settings: BuildSettings, say: Say) -> JobResult:
    published = settings.db_path
    with publish.duckdb_run_lock(published):
        candidate_path, publication = publish.prepare_duckdb(published, incremental=not settings.full_refresh)
        if publication.copied_bytes:
            say(
                f"the incremental build starts from a copy of {published.name} "
                f"({publication.copied_bytes / 2**20:.0f} MiB in {publication.copy_seconds:.2f} s)"
            )
        candidate = dataclasses.replace(settings, db_path=candidate_path)
        try:
            outcomes, results = _build_docs_validate(candidate, publish.build_dir(published) / "gx_docs", say)
            guard.check(candidate, settings, "", settings.accept_changes, say)
        except (JobFailed, guard.GuardStopped) as error:
            raise JobFailed(
                f"{error}\nNothing was published: {published} is unchanged. The failed build is kept in "
                f"{publish.build_dir(published)} for inspection (the next run replaces it)."
            ) from error
        publish.mark_validated(published)
        publish.publish_duckdb(published, publication)
        say(f"4/4 publish  {published.name} replaced in one rename in {publication.publish_seconds:.3f} s")
    return JobResult(outcomes, results, publication, [])


def _run_postgres(settings: BuildSettings, say: Say) -> JobResult:
    from crm_kpi.loaders import PostgresSettings, ensure_postgres_database

    pg = PostgresSettings.from_environment()
    ensure_postgres_database(pg)
    connection = pg.connect()
    try:
        with publish.postgres_run_lock(connection, pg.dbname):
            publish.clear_leftovers(connection)
            candidate = dataclasses.replace(settings, schema_prefix=publish.BUILD_PREFIX)
            publication = publish.Publication("postgres")
            if not settings.full_refresh:
                publication = publish.copy_incremental_tables(connection, incremental_relations(candidate))
                say(
                    f"the incremental build starts from a copy of the published incremental tables "
                    f"({publication.copied_bytes / 2**20:.0f} MiB in {publication.copy_seconds:.2f} s)"
                )
            gx_docs = settings.db_path.parent / "gx_docs"
            try:
                outcomes, results = _build_docs_validate(candidate, gx_docs, say, f"{publish.BUILD_PREFIX}marts")
                guard.check(candidate, settings, publish.BUILD_PREFIX, settings.accept_changes, say)
            except (JobFailed, guard.GuardStopped) as error:
                raise JobFailed(
                    f"{error}\nNothing was published: the schemas {', '.join(publish.SCHEMAS)} are unchanged. The "
                    f"failed build is kept in the schemas {publish.BUILD_PREFIX}* (the next run drops them)."
                ) from error
            role = bi_role()
            publish.swap_schemas(connection, role if publish.role_exists(connection, role) else None, publication)
            say(f"4/4 publish  schemas swapped in one transaction in {publication.publish_seconds:.3f} s")
    finally:
        connection.close()
    return JobResult(outcomes, results, publication, [])


def bi_role() -> str:
    import os

    return os.environ.get("CRM_KPI_BI_ROLE", "crm_kpi_bi")


def incremental_relations(candidate: BuildSettings) -> list[tuple[str, str]]:
    """The (published schema, table) of every incremental model, from a `dbt parse` of the candidate."""
    run_dbt(dataclasses.replace(candidate, quiet=True), ["parse"])
    nodes = manifest.load(manifest.manifest_path(candidate.target_dir))["nodes"].values()
    found = []
    for node in nodes:
        if node["resource_type"] == "model" and node["config"].get("materialized") == "incremental":
            schema = str(node["schema"]).removeprefix(candidate.schema_prefix)
            found.append((schema, str(node.get("alias") or node["name"])))
    return sorted(found)
