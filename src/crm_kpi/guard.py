"""The publish guard of `crm-kpi run`: a build that passed every test can still be a quiet wrong number (half
the leads quarantined, an export without exchange_rates that halves the bookings). Before publishing, the
candidate is compared with itself and with the published build:

- the share of a raw table's file rows that were quarantined (audit_crm__row_accounting);
- the change in each mart's row count against the published build;
- the change in each headline figure (HEADLINES) against the published build.

A figure past its threshold (dbt vars, defaults in dbt_project.yml; GUARD_VARS) stops the run before
publishing, naming the table and the figure; `crm-kpi run --accept-changes` publishes anyway. Tables and
marts with fewer rows than `publish_guard_min_rows` (in the file, or in the published build) are not
judged: a change of one row in three is not news. The first build (nothing published) is judged by its
quarantine shares only.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Callable, Iterator
from typing import Any

from crm_kpi import manifest
from crm_kpi.paths import project_root
from crm_kpi.settings import BuildSettings

# The vars and their meaning; their defaults are in dbt_project.yml (a test keeps them in step).
GUARD_VARS: dict[str, str] = {
    "publish_max_quarantine_share": "the largest share (0-1) of a raw table's file rows that may be quarantined",
    "publish_max_row_change": "the largest relative change of a mart's row count against the published build",
    "publish_max_kpi_change": "the largest relative change of a headline figure against the published build",
    "publish_guard_min_rows": "tables and marts with fewer rows than this are not judged",
}
# Headline figures: what a reader of the marts would notice first; each with the mart it is read from (judged
# only when that mart held publish_guard_min_rows rows in the published build). {marts}: the marts schema.
HEADLINES: dict[str, tuple[str, str]] = {
    "bookings (amount of the deals won by the as-of date, marts.fct_opportunities)": (
        "fct_opportunities",
        "select coalesce(sum(amount), 0) from {marts}.fct_opportunities where is_won_by_as_of",
    ),
    "won deals (marts.fct_opportunities)": (
        "fct_opportunities",
        "select count(*) from {marts}.fct_opportunities where is_won_by_as_of",
    ),
    "leads (marts.fct_leads)": ("fct_leads", "select count(*) from {marts}.fct_leads"),
}


class GuardStopped(RuntimeError):
    """The candidate passed every test, but a figure passed the guard's threshold: nothing published."""


@dataclasses.dataclass
class Figures:
    quarantine: dict[str, tuple[int, int]]  # raw table -> (rows in the file, rows quarantined)
    rows: dict[str, int]  # mart -> rows
    headlines: dict[str, tuple[str, float]]  # name -> (the mart it is read from, value)


def limits(settings: BuildSettings) -> dict[str, float]:
    """The guard's thresholds: dbt_project.yml's defaults, overridden by the build's vars; checked."""
    import yaml  # type: ignore[import-untyped,unused-ignore]

    defaults = yaml.safe_load((project_root() / "dbt_project.yml").read_text(encoding="utf-8"))["vars"]
    found: dict[str, float] = {}
    for name in GUARD_VARS:
        value: Any = settings.extra_vars.get(name, defaults[name])
        try:
            number = float(str(value)) if not isinstance(value, bool) else -1.0
        except ValueError:
            number = -1.0
        share = name == "publish_max_quarantine_share"
        if not (0 <= number <= (1 if share else 1e9)) or (name == "publish_guard_min_rows" and not number.is_integer()):
            raise ValueError(f"var {name} = {value!r} is not valid: expected {GUARD_VARS[name]} (a number >= 0)")
        found[name] = number
    return found


Query = Callable[[str], list[tuple[object, ...]]]


@contextlib.contextmanager
def _session(settings: BuildSettings) -> Iterator[Query]:
    """One connection for all of a build's figures (a DuckDB file read-only, or PostgreSQL)."""
    if settings.target == "postgres":
        from crm_kpi.loaders import PostgresSettings

        connection = PostgresSettings.from_environment().connect()
        try:

            def run(sql: str) -> list[tuple[object, ...]]:
                with connection.cursor() as cursor:
                    cursor.execute(sql)
                    return list(cursor.fetchall())

            yield run
        finally:
            connection.close()
    else:
        import duckdb

        with duckdb.connect(str(settings.db_path), read_only=True) as duck:
            yield lambda sql: duck.execute(sql).fetchall()


def read(settings: BuildSettings, prefix: str = "") -> Figures | None:
    """The figures of a build (DuckDB file or PostgreSQL schemas `<prefix>marts`, `<prefix>audit`); None when
    there is no build there (nothing published yet)."""
    if settings.target == "duckdb" and not settings.db_path.is_file():
        return None
    marts, audit = f"{prefix}marts", f"{prefix}audit"
    try:
        with _session(settings) as query:
            tables = query(f"select table_name from information_schema.tables where table_schema = '{marts}'")
            present = {str(row[0]) for row in tables}
            if "fct_leads" not in present:
                return None
            accounting = query(f"select table_name, file_rows, quarantined_rows from {audit}.audit_crm__row_accounting")
            names = [mart.name for mart in manifest.built_marts(settings.target_dir) if mart.name in present]
            counts = query(" union all ".join(f"select '{name}', count(*) from {marts}.\"{name}\"" for name in names))
            headlines = {
                name: (mart, float(str(query(sql.format(marts=marts))[0][0])))
                for name, (mart, sql) in HEADLINES.items()
            }
    except Exception as error:  # a build that cannot be read: say so rather than judge it
        raise GuardStopped(f"the publish guard could not read the build ({error})") from error
    quarantine = {str(table): (int(str(total)), int(str(bad))) for table, total, bad in accounting}
    return Figures(quarantine, {str(name): int(str(rows)) for name, rows in counts}, headlines)


def _change(new: float, old: float) -> float:
    return abs(new - old) / abs(old)


def breaches(candidate: Figures, published: Figures | None, limit: dict[str, float]) -> list[str]:
    """Each figure of the candidate past its threshold, named with its table and its values."""
    found = []
    least = limit["publish_guard_min_rows"]
    share_limit = limit["publish_max_quarantine_share"]
    for table, (total, bad) in sorted(candidate.quarantine.items()):
        if total >= least and total and bad / total > share_limit:
            found.append(
                f"{table}: {bad} of the file's {total} rows quarantined ({bad / total:.1%}), above "
                f"publish_max_quarantine_share = {share_limit:g} (see audit.audit_crm__quarantined_rows)"
            )
    if published is None:
        return found
    row_limit = limit["publish_max_row_change"]
    for mart, rows in sorted(candidate.rows.items()):
        before = published.rows.get(mart)
        if before is not None and before >= least and _change(rows, before) > row_limit:
            found.append(
                f"marts.{mart}: {rows} rows, {before} published ({(rows - before) / before:+.1%}), beyond "
                f"publish_max_row_change = {row_limit:g}"
            )
    kpi_limit = limit["publish_max_kpi_change"]
    for name, (mart, value) in candidate.headlines.items():
        before_value = published.headlines.get(name, (mart, 0.0))[1]
        if published.rows.get(mart, 0) >= least and before_value and _change(value, before_value) > kpi_limit:
            found.append(
                f"{name}: {value:,.2f}, {before_value:,.2f} published ({(value - before_value) / before_value:+.1%}), "
                f"beyond publish_max_kpi_change = {kpi_limit:g}"
            )
    return found


def check(candidate: BuildSettings, published: BuildSettings, prefix: str, accept: bool, say: Any) -> list[str]:
    """Raise GuardStopped naming every breach, unless `accept` (then say them and return them)."""
    limit = limits(published)
    found = breaches(read(candidate, prefix) or Figures({}, {}, {}), read(published), limit)
    if found and not accept:
        raise GuardStopped(
            "the publish guard stopped the run: every test passed, but\n  "
            + "\n  ".join(found)
            + "\nIf the export is right, run again with --accept-changes to publish it (the thresholds are dbt vars, "
            "see docs/bad-input.md)."
        )
    for breach in found:
        say(f"publish guard (accepted with --accept-changes): {breach}")
    return found
