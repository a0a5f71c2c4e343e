"""Lead PII (first and last names, emails, phones) stops at staging: no column of any table or view in the
intermediate and marts schemas holds a value of the raw export's lead PII columns, equal to it (trimmed,
any case) or, for emails and phones, containing it; nor does the audit schema, which BI may read (the
quarantine report masks these columns' raw values). Staging hashes the email into lead_person_key, salted."""

from __future__ import annotations

import duckdb
import pytest

from conftest import Warehouse

pytestmark = pytest.mark.slow

PII_COLUMNS = ("first_name", "last_name", "email", "phone")
SCHEMAS = ("intermediate", "marts", "audit")


def _pii_columns(connection: duckdb.DuckDBPyConnection, catalog: str, where: str) -> list[str]:
    """The text columns (information_schema.columns matching `where`) of the built warehouse that hold
    lead PII (the session's table `pii`): a value equal to one, or holding one of its emails."""
    columns = connection.execute(
        "select table_schema, table_name, column_name from information_schema.columns "
        f"where table_catalog = '{catalog}' and data_type = 'VARCHAR' and {where}"
    ).fetchall()
    assert columns
    found = []
    for schema, table, column in columns:
        value = f'lower(trim(t."{column}"))'
        hits = connection.execute(
            f'select count(*) from "{catalog}"."{schema}"."{table}" as t '
            f"where {value} in (select value from pii) or list_has_any("
            f"regexp_extract_all({value}, '[^\\s,;<>\"()]+@[^\\s,;<>\"()]+'), "
            "(select list(value) from pii where kind = 'email'))"
        ).fetchone()
        if hits and hits[0]:
            found.append(f"{schema}.{table}.{column}")
    return found


def test_no_lead_pii_past_staging(demo_warehouse: Warehouse) -> None:
    leads = demo_warehouse.raw_dir / "leads.csv"
    with duckdb.connect() as connection:
        # Attached under its own name: its views name their catalog, the file's base name.
        catalog = demo_warehouse.db_path.stem
        connection.execute(f"attach '{demo_warehouse.db_path}' as \"{catalog}\" (read_only)")
        connection.execute(
            "create temp table pii as "
            + " union ".join(
                f"select lower(trim({name})) as value, '{name}' as kind "
                f"from read_csv('{leads}', header = true, all_varchar = true) where {name} is not null"
                for name in PII_COLUMNS
            )
        )
        kinds = dict(connection.execute("select kind, count(*) from pii group by kind").fetchall())
        # Distinct values of each kind: the scan has something to find.
        assert all(kinds.get(name, 0) > 50 for name in PII_COLUMNS), kinds
        # The scan finds PII where it is (staging keeps it, for the lead's own record)...
        assert {"staging.stg_crm__leads.email", "staging.stg_crm__leads.phone"} <= set(
            _pii_columns(connection, catalog, "table_name = 'stg_crm__leads'")
        )
        # ... and finds none past staging.
        found = _pii_columns(connection, catalog, f"table_schema in {SCHEMAS}")
    assert not found, "lead PII past staging: " + ", ".join(found)
