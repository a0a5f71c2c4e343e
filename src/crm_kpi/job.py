"""The main job, `crm-kpi run`, written as write-audit-publish (crm_kpi.publish):

1. check the export against the raw contract (crm_kpi.preflight), then build a candidate warehouse
   beside the published one (dbt seed/load + dbt build, every model and dbt test);
2. dbt docs generate on it;
3. the Great Expectations suites on its marts;
4. publish it, atomically, only when all of that passed; then the summary, read from the published one.

Whatever fails (a check, a test, an expectation, the process itself), the published warehouse stays as
it was, and the message names what failed: the file, row and column for a bad export, the model, the
column and the failing rows (kept in the candidate's audit schema) for a dbt test, the mart, column and
values for an expectation.

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
from typing import Any

from crm_kpi import guard, lineage, manifest, publish, runner
from crm_kpi.expectations import (
    DuckDBFrames,
    ExpectationsFailed,
    MartResult,
    MartSource,
    PostgresFrames,
    raise_on_failure,
    validate,
)
from crm_kpi.paths import demo_dir, project_root

Say = Callable[[str], None]
FAILED_ROWS_SHOWN = 5


@dataclasses.dataclass
class JobResult:
    outcomes: list[runner.DbtOutcome]
    expectations: list[MartResult]
    publication: publish.Publication | None
    absent_files: list[str]
    seconds: float = 0.0


class JobFailed(RuntimeError):
    """The run stopped; the published warehouse is unchanged (the message says what failed)."""


def run(settings: runner.BuildSettings, say: Say) -> JobResult:
    started = time.perf_counter()
    absent = runner.check_raw_folder(settings.raw_path, settings.raw_format) if settings.raw_path else []
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


def _build_docs_validate(
    candidate: runner.BuildSettings, gx_docs: Path | None, say: Say, gx_schema: str = "marts"
) -> tuple[list[runner.DbtOutcome], list[MartResult]]:
    """Steps 1-3 on the candidate; raise JobFailed naming what failed. Great Expectations is imported
    while dbt builds, and its suites run while `dbt docs generate` does (both are subprocess-bound or
    in-process on the other core): the marts are read before the docs command opens the DuckDB file."""
    from crm_kpi import catalogue

    where = "the demo set" if candidate.raw_path == demo_dir() else "the export"
    say(f"1/4 build a candidate warehouse from {where} {candidate.raw_path or 'seeds (dbt seed)'}: dbt build")
    importing = threading.Thread(target=_import_great_expectations, daemon=True) if gx_docs else None
    if importing is not None:
        importing.start()
    try:
        outcomes = runner.build(candidate, say)
    except runner.DbtFailed as error:
        stored = keep_failing_rows(candidate, error.results)
        raise JobFailed(f"{error}{describe_failed_tests(candidate, stored)}") from error
    overview = catalogue.write_overview(project_root(), catalogue.index(candidate.marts()))
    kpi_marts = candidate.kpi_marts()
    source = _mart_source(candidate, gx_schema, kpi_marts) if gx_docs else None
    docs: dict[str, runner.DbtOutcome | runner.DbtFailed] = {}
    # --no-compile: the build just compiled every node; the docs keep its compiled SQL. But then dbt embeds the
    # build's manifest as it is, parsed before the front page was written: on the first run (or when the KPIs
    # changed) compile again, which parses the new page and writes the manifest the docs embed.
    built = manifest.load(manifest.manifest_path(candidate.target_dir))
    compile_again = not catalogue.overview_in_manifest(built, overview.read_text(encoding="utf-8"))
    generating = threading.Thread(target=_generate_docs, args=(candidate, docs, compile_again), daemon=True)
    say("2/4 dbt docs generate (the KPI catalogue index as its front page)")
    generating.start()
    results: list[MartResult] = []
    failed: ExpectationsFailed | None = None
    if source is None or gx_docs is None:
        say("3/4 Great Expectations: not run on Spark (the dbt tests ran there; GX runs on DuckDB and PostgreSQL)")
    else:
        say("3/4 Great Expectations suites on the candidate's marts (beside dbt docs generate)")
        if importing is not None:
            importing.join()
        try:
            results = raise_on_failure(validate(source, gx_docs, kpi_marts))
        except ExpectationsFailed as error:
            failed = error
    generating.join()
    outcome = docs.get("outcome")
    if isinstance(outcome, runner.DbtFailed):
        raise JobFailed(str(outcome)) from outcome
    if failed is not None:
        raise JobFailed(str(failed)) from failed
    assert isinstance(outcome, runner.DbtOutcome)
    return [*outcomes, outcome], results


def _import_great_expectations() -> None:
    """Pay GX's import (seconds) while dbt builds in its subprocess."""
    with contextlib.suppress(Exception):  # the validation step imports it again and reports any error
        import great_expectations  # noqa: F401


def _generate_docs(
    candidate: runner.BuildSettings, into: dict[str, runner.DbtOutcome | runner.DbtFailed], compile_again: bool
) -> None:
    try:
        compiling = [] if compile_again else ["--no-compile"]
        into["outcome"] = runner.run_dbt(candidate, ["docs", "generate", "--static", *compiling])
    except runner.DbtFailed as error:
        into["outcome"] = error


def _mart_source(candidate: runner.BuildSettings, schema: str, marts: list[manifest.Mart]) -> MartSource:
    """Where GX reads the marts: PostgreSQL through psycopg2; DuckDB read into pandas now and closed, so
    that `dbt docs generate` can open the file (DuckDB lets one process write or many read)."""
    if candidate.target == "postgres":
        from crm_kpi.loaders import PostgresSettings

        return PostgresFrames(PostgresSettings.from_environment().connect, schema)
    return DuckDBFrames(candidate.db_path, schema, preload=marts)


def _run_duckdb(settings: runner.BuildSettings, say: Say) -> JobResult:
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
        say(f"4/4 publish: every test and expectation passed; {published.name} replaced in one rename")
        publish.publish_duckdb(published, publication)
    return JobResult(outcomes, results, publication, [])


def _run_postgres(settings: runner.BuildSettings, say: Say) -> JobResult:
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
            say("4/4 publish: every test and expectation passed; schemas swapped in one transaction")
            publish.swap_schemas(connection, role if publish.role_exists(connection, role) else None, publication)
    finally:
        connection.close()
    return JobResult(outcomes, results, publication, [])


def bi_role() -> str:
    import os

    return os.environ.get("CRM_KPI_BI_ROLE", "crm_kpi_bi")


def incremental_relations(candidate: runner.BuildSettings) -> list[tuple[str, str]]:
    """The (published schema, table) of every incremental model, from a `dbt parse` of the candidate."""
    runner.run_dbt(dataclasses.replace(candidate, quiet=True), ["parse"])
    nodes = manifest.load(manifest.manifest_path(candidate.target_dir))["nodes"].values()
    found = []
    for node in nodes:
        if node["resource_type"] == "model" and node["config"].get("materialized") == "incremental":
            schema = str(node["schema"]).removeprefix(candidate.schema_prefix)
            found.append((schema, str(node.get("alias") or node["name"])))
    return sorted(found)


# ------------------------------------------------------------------------------------------- reports


def keep_failing_rows(settings: runner.BuildSettings, failed: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rerun the data tests that failed with `--store-failures`, so that their failing rows are kept in
    the candidate's audit schema (a table each, where dbt_project.yml says); their new results, which name
    those relations. A build whose tests pass stores nothing."""
    names = [
        str(node["unique_id"]).split(".")[2]
        for node in failed
        if str(node.get("unique_id", "")).startswith("test.") and node.get("status") == "fail"
    ]
    if not names:
        return failed
    try:
        runner.run_dbt(dataclasses.replace(settings, quiet=True), ["test", "--select", *names, "--store-failures"])
    except runner.DbtFailed as again:
        return again.results or failed
    return failed


def describe_failed_tests(settings: runner.BuildSettings, failed: list[dict[str, Any]]) -> str:
    """For each failed dbt test: its model and column, and the first failing rows, read from where dbt
    stored them (store_failures: a view in the candidate's audit schema)."""
    lines = []
    nodes = _manifest_nodes(settings)
    for result in failed:
        unique_id = str(result.get("unique_id", ""))
        if not unique_id.startswith("test.") or result.get("status") != "fail":
            continue
        node = nodes.get(unique_id, {})
        model = str(node.get("attached_node") or "").split(".")[-1] or "(singular test)"
        column = node.get("column_name")
        where = f"{model}.{column}" if column else model
        relation = result.get("relation_name") or ""
        lines.append(f"  {where}: {node.get('name', unique_id)} failed for {result.get('failures')} row(s)")
        if relation:
            lines.append(f"    failing rows kept in {relation}, e.g.:")
            try:
                lines += [f"      {row}" for row in _sample(settings, relation)]
            except Exception as error:  # the candidate may be unreadable after a crash: say so, go on
                lines.append(f"      (could not read them: {error})")
    return ("\nFailing tests, with the rows that fail:\n" + "\n".join(lines)) if lines else ""


def _manifest_nodes(settings: runner.BuildSettings) -> dict[str, Any]:
    try:
        nodes: dict[str, Any] = manifest.load(manifest.manifest_path(settings.target_dir))["nodes"]
    except (FileNotFoundError, KeyError):
        return {}
    return nodes


def _sample(settings: runner.BuildSettings, relation: str) -> list[dict[str, object]]:
    columns, rows = runner.query_with_columns(settings, f"select * from {relation} limit {FAILED_ROWS_SHOWN}")
    return [dict(zip(columns, row, strict=False)) for row in rows]


def raw_tables(settings: runner.BuildSettings) -> dict[str, lineage.RawTable]:
    """Every raw table as the row accounting saw it (present, file rows, staged rows)."""
    rows = runner.query(
        settings, "select table_name, file_present, file_rows, staged_rows from audit.audit_crm__row_accounting"
    )
    return {
        str(name): lineage.RawTable(bool(present), int(str(count)), int(str(staged)))
        for name, present, count, staged in rows
    }


def empty_kpi_reasons(settings: runner.BuildSettings, empty: list[str]) -> dict[str, str]:
    """Why each empty KPI mart is empty: an as-of date before the data, or what the export lacks
    (lineage.empty_reason)."""
    if not empty:
        return {}
    built = manifest.load(manifest.manifest_path(settings.target_dir))
    marts = {mart.name: mart for mart in manifest.kpi_marts(built)}
    dates = runner.query(settings, "select as_of_date, first_data_date from intermediate.int_as_of_dates")
    as_of, first = (str(value) for value in dates[0]) if dates and None not in dates[0] else ("", "")
    if as_of < first:
        return {mart: f"the as-of date {as_of} is before the first data date {first}" for mart in empty}
    raw = raw_tables(settings)
    return {mart: lineage.empty_reason(marts[mart], built, raw) for mart in empty}


def null_kpi_columns(settings: runner.BuildSettings, answered: list[str]) -> dict[str, str]:
    """The KPI columns of non-empty marts left null by a missing table they need, as one line per mart."""
    marts = {mart.name: mart for mart in settings.kpi_marts()}
    raw = raw_tables(settings)
    lines = {}
    for name in answered:
        by_table = lineage.null_columns(marts[name], raw) if name in marts else {}
        if by_table:
            lines[name] = "; ".join(
                f"{', '.join(columns)} null: need {table} ({raw[table].missing})" for table, columns in by_table.items()
            )
    return lines


def print_summary(settings: runner.BuildSettings, result: JobResult) -> None:
    counts = sum((o.counts for o in result.outcomes if not o.command.startswith("docs")), start=Counter[str]())
    print()
    print(f"Summary ({settings.target})")
    print(f"  models built        {counts.get('model:success', 0)}")
    if counts.get("seed:success"):
        print(f"  seeds loaded        {counts['seed:success']}")
    data_tests, unit_tests = counts.get("test:pass", 0), counts.get("unit_test:pass", 0)
    print(f"  dbt tests passed    {data_tests + unit_tests} (data {data_tests}, unit {unit_tests})")
    if result.expectations:
        suites = len(result.expectations)
        print(f"  expectations        {sum(r.evaluated for r in result.expectations)} passed in {suites} suites")
    if result.publication is not None:
        copied = result.publication.copied_bytes
        cost = f"copied {copied / 2**20:.0f} MiB in {result.publication.copy_seconds:.2f} s, " if copied else ""
        print(f"  published           {cost}swapped in {result.publication.publish_seconds:.3f} s")
        for note in result.publication.notes:
            print(f"                      {note}")
    if result.absent_files:
        print(f"  optional files      absent or empty: {', '.join(result.absent_files)}")
    if settings.target != "spark":
        print("  rows per mart")
        kpis = {mart.name: mart.kpi_ids for mart in settings.kpi_marts()}
        empty = []
        for name, count in runner.mart_row_counts(settings).items():
            answers = f"  {', '.join(kpis[name])}" if kpis.get(name) else ""
            print(f"    {name:<36} {count:>8}{answers}")
            if name in kpis and count == 0:
                empty.append(name)
        for mart, why in empty_kpi_reasons(settings, empty).items():
            print(f"  empty KPI mart      {mart}: {why}")
        answered = [name for name in kpis if name not in empty]
        for mart, why in null_kpi_columns(settings, answered).items():
            print(f"  unanswered columns  {mart}: {why}")
        quarantined = runner.quarantine_counts(settings)
        detail = ", ".join(f"{name} {count}" for name, count in quarantined.items()) or "none"
        print(f"  quarantined rows    {sum(quarantined.values())} ({detail}; see audit.audit_crm__quarantined_rows)")
        orphans = runner.query(
            settings, "select outcome, count(*) from audit.audit_crm__orphan_keys group by outcome order by outcome"
        )
        detail = ", ".join(f"{outcome} {count}" for outcome, count in orphans) or "none"
        total = sum(int(str(count)) for _, count in orphans)
        print(f"  orphan keys         {total} ({detail}; see audit.audit_crm__orphan_keys)")
    if settings.target == "duckdb":
        print(f"  database            {settings.db_path}")
    elif settings.target == "postgres":
        print("  database            PostgreSQL (CRM_KPI_PG_* settings), schema marts")
    else:
        print(f"  Spark warehouse     {settings.spark_dir / 'spark-warehouse'} (metastore in {settings.spark_dir})")
    print(f"  dbt docs            {project_root() / 'target' / 'static_index.html'}")
    if result.expectations:
        print(f"  GX data docs        {settings.db_path.parent / 'gx_docs' / 'index.html'}")
    print(f"  took                {result.seconds:.1f} s")
