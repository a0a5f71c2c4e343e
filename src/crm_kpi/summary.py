"""The summary `crm-kpi run` prints after publishing, read from the published warehouse: what was built and
tested, the rows of every mart (and why a KPI mart is empty: `empty_kpi_reasons`), the audit's counts, where
things are. Tables drawn by rich (plain text when the output is not a terminal)."""

from __future__ import annotations

from collections import Counter

from rich.table import Table

from crm_kpi import lineage, manifest
from crm_kpi.console import show
from crm_kpi.job import JobResult
from crm_kpi.paths import project_root
from crm_kpi.settings import BuildSettings
from crm_kpi.warehouse import mart_row_counts, orphan_counts, quarantine_counts, query

# What the orphan keys' outcomes mean for a reader of the summary (audit_crm__orphan_keys).
ORPHAN_NOTE = (
    "expected in a CRM export (references to records deleted, or not exported); not an error: the quarantine "
    "holds the refused rows, and a sudden rise says the export lost records"
)


def raw_tables(settings: BuildSettings) -> dict[str, lineage.RawTable]:
    """Every raw table as the row accounting saw it (present, file rows, staged rows)."""
    accounting = "select table_name, file_present, file_rows, staged_rows from audit.audit_crm__row_accounting"
    rows = query(settings, accounting)
    return {
        str(name): lineage.RawTable(bool(present), int(str(count)), int(str(staged)))
        for name, present, count, staged in rows
    }


def empty_kpi_reasons(settings: BuildSettings, empty: list[str]) -> dict[str, str]:
    """Why each empty KPI mart is empty: an as-of date before the data, or what the export lacks
    (lineage.empty_reason: the declared needs it lacks, else the missing tables of the mart's lineage)."""
    if not empty:
        return {}
    built = manifest.load(manifest.manifest_path(settings.target_dir))
    marts = {mart.name: mart for mart in manifest.kpi_marts(built)}
    dates = query(settings, "select as_of_date, first_data_date from intermediate.int_as_of_dates")
    as_of, first = (str(value) for value in dates[0]) if dates and None not in dates[0] else ("", "")
    if as_of < first:
        return {mart: f"the as-of date {as_of} is before the first data date {first}" for mart in empty}
    raw = raw_tables(settings)
    return {mart: lineage.empty_reason(marts[mart], built, raw) for mart in empty}


def null_kpi_columns(settings: BuildSettings, answered: list[str]) -> dict[str, str]:
    """The KPI columns of non-empty marts left null by a missing table they need (column meta `needs`)."""
    marts = {mart.name: mart for mart in manifest.built_kpi_marts(settings.target_dir)}
    raw = raw_tables(settings)
    lines = {}
    for name in answered:
        by_table = lineage.null_columns(marts[name], raw) if name in marts else {}
        if by_table:
            lines[name] = "; ".join(
                f"{', '.join(columns)} null: need {table} ({raw[table].missing})" for table, columns in by_table.items()
            )
    return lines


def _counted(counts: dict[str, int], see: str) -> str:
    detail = ", ".join(f"{name} {count}" for name, count in counts.items()) or "none"
    return f"{sum(counts.values())} ({detail}; see {see})"


def _facts(settings: BuildSettings, result: JobResult) -> list[tuple[str, str]]:
    """The summary's lines before the marts: what was built, tested, validated and published."""
    counts = sum((o.counts for o in result.outcomes if not o.command.startswith("docs")), start=Counter[str]())
    data_tests, unit_tests = counts.get("test:pass", 0), counts.get("unit_test:pass", 0)
    facts = [("models built", str(counts.get("model:success", 0)))]
    if counts.get("seed:success"):
        facts.append(("seeds loaded", str(counts["seed:success"])))
    facts.append(("dbt tests passed", f"{data_tests + unit_tests} (data {data_tests}, unit {unit_tests})"))
    if result.expectations:
        evaluated = sum(r.evaluated for r in result.expectations)
        facts.append(("expectations", f"{evaluated} passed in {len(result.expectations)} suites"))
    if result.publication is not None:
        copied = result.publication.copied_bytes
        cost = f"copied {copied / 2**20:.0f} MiB in {result.publication.copy_seconds:.2f} s, " if copied else ""
        facts.append(("published", f"{cost}swapped in {result.publication.publish_seconds:.3f} s"))
        facts += [("", note) for note in result.publication.notes]
    if result.absent_files:
        facts.append(("optional files", f"absent or empty: {', '.join(result.absent_files)}"))
    return facts


def _marts_table(settings: BuildSettings, marts: list[manifest.Mart]) -> tuple[Table, list[str]]:
    """Rows per mart, with the KPIs each KPI mart answers; and the KPI marts that came out empty."""
    table = Table(title="rows per mart", title_justify="left", box=None, padding=(0, 2))
    table.add_column("mart")
    table.add_column("rows", justify="right")
    table.add_column("answers KPIs")
    kpis = {mart.name: mart.kpi_ids for mart in marts if mart.is_kpi}
    empty = []
    for name, count in mart_row_counts(settings, marts).items():
        table.add_row(name, str(count), ", ".join(kpis.get(name, ())))
        if name in kpis and count == 0:
            empty.append(name)
    return table, empty


def print_summary(settings: BuildSettings, result: JobResult) -> None:
    facts = _facts(settings, result)
    if settings.target != "spark":
        marts = manifest.built_marts(settings.target_dir)
        table, empty = _marts_table(settings, marts)
        show("", table)
        facts += [("empty KPI mart", f"{mart}: {why}") for mart, why in empty_kpi_reasons(settings, empty).items()]
        answered = [mart.name for mart in marts if mart.is_kpi and mart.name not in empty]
        unanswered = null_kpi_columns(settings, answered)
        facts += [("unanswered columns", f"{mart}: {why}") for mart, why in unanswered.items()]
        facts.append(("quarantined rows", _counted(quarantine_counts(settings), "audit.audit_crm__quarantined_rows")))
        orphans = orphan_counts(settings)
        facts.append(("orphan keys", _counted(orphans, "audit.audit_crm__orphan_keys")))
        if orphans:
            facts.append(("", ORPHAN_NOTE))
    if settings.target == "duckdb":
        facts.append(("database", str(settings.db_path)))
    elif settings.target == "postgres":
        facts.append(("database", "PostgreSQL (CRM_KPI_PG_* settings), schema marts"))
    else:
        facts.append(
            ("Spark warehouse", f"{settings.spark_dir / 'spark-warehouse'} (metastore in {settings.spark_dir})")
        )
    facts.append(("dbt docs", str(project_root() / "target" / "static_index.html")))
    if result.expectations:
        facts.append(("GX data docs", str(settings.db_path.parent / "gx_docs" / "index.html")))
    facts.append(("took", f"{result.seconds:.1f} s"))
    grid = Table(
        title=f"Summary ({settings.target})", title_justify="left", box=None, padding=(0, 2), show_header=False
    )
    grid.add_column("what", style="bold")
    grid.add_column("value", overflow="fold")
    for label, value in facts:
        grid.add_row(label, value)
    show("", grid)
