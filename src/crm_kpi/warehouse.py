"""Queries on a built warehouse (the DuckDB file, read-only, or PostgreSQL): rows of a mart, the audit counts."""

from __future__ import annotations

from collections.abc import Sequence

from crm_kpi.manifest import Mart
from crm_kpi.settings import BuildSettings

QUARANTINE_SQL = "select table_name, count(*) from audit.audit_crm__quarantined_rows group by 1 order by 1"
ORPHANS_SQL = "select outcome, count(*) from audit.audit_crm__orphan_keys group by outcome order by outcome"


def query_with_columns(settings: BuildSettings, sql: str) -> tuple[list[str], list[tuple[object, ...]]]:
    """The column names and rows of a query on the built warehouse (DuckDB file or PostgreSQL)."""
    if settings.target == "postgres":
        from crm_kpi.loaders import PostgresSettings

        connection = PostgresSettings.from_environment().connect()
        try:
            with connection.cursor() as cursor:
                cursor.execute(sql)
                return [str(column[0]) for column in cursor.description], list(cursor.fetchall())
        finally:
            connection.close()
    import duckdb

    with duckdb.connect(str(settings.db_path), read_only=True) as duck:
        result = duck.execute(sql)
        return [str(column[0]) for column in result.description or []], result.fetchall()


def query(settings: BuildSettings, sql: str) -> list[tuple[object, ...]]:
    """Rows of a query on the built warehouse (DuckDB file or PostgreSQL)."""
    return query_with_columns(settings, sql)[1]


def mart_row_counts(settings: BuildSettings, marts: Sequence[Mart]) -> dict[str, int]:
    """Rows of each of these marts, by name."""
    counts: dict[str, int] = {}
    for mart in marts:
        rows = query(settings, f'select count(*) from marts."{mart.name}"')
        counts[mart.name] = int(str(rows[0][0]))
    return counts


def quarantine_counts(settings: BuildSettings) -> dict[str, int]:
    """Quarantined raw rows by raw table."""
    return {str(name): int(str(count)) for name, count in query(settings, QUARANTINE_SQL)}


def orphan_counts(settings: BuildSettings) -> dict[str, int]:
    """Foreign keys that name no row of the referenced table, by what staging did with them."""
    return {str(outcome): int(str(count)) for outcome, count in query(settings, ORPHANS_SQL)}
