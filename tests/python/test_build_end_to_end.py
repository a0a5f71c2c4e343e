"""End-to-end: the demo builds with every dbt test, reads identically as an external export, and an
export holding only the required tables builds with empty optional KPIs."""

from __future__ import annotations

import csv
from pathlib import Path

import duckdb
import pytest

from conftest import Warehouse, build_warehouse
from crm_kpi.dbt_invoke import DbtFailed, run_dbt
from crm_kpi.paths import project_root
from crm_kpi.preflight import RawExportError
from crm_kpi.settings import BuildSettings

pytestmark = pytest.mark.slow

FIXTURES = Path(__file__).parent / "fixtures"


def _tables(db_path: Path, schema: str) -> list[str]:
    with duckdb.connect(str(db_path), read_only=True) as connection:
        rows = connection.execute(
            "select table_name from information_schema.tables where table_schema = ? order by 1", [schema]
        ).fetchall()
    return [str(name) for (name,) in rows]


def _sorted_rows(db_path: Path, table: str) -> list[tuple[object, ...]]:
    with duckdb.connect(str(db_path), read_only=True) as connection:
        return connection.execute(f"select * from {table} order by all").fetchall()


def test_demo_builds_every_kpi_mart_with_rows(demo_warehouse: Warehouse) -> None:
    tables = _tables(demo_warehouse.db_path, "marts")
    for mart in demo_warehouse.kpi_marts():
        assert mart in tables
        assert _sorted_rows(demo_warehouse.db_path, f"marts.{mart}"), f"{mart} is empty"


def test_external_csv_export_gives_identical_marts(
    demo_warehouse: Warehouse, external_demo_warehouse: Warehouse
) -> None:
    marts = _tables(demo_warehouse.db_path, "marts")
    assert marts == _tables(external_demo_warehouse.db_path, "marts")
    for mart in marts:
        seeded = _sorted_rows(demo_warehouse.db_path, f"marts.{mart}")
        external = _sorted_rows(external_demo_warehouse.db_path, f"marts.{mart}")
        assert seeded == external, f"marts.{mart} differs between dbt seed and the external CSV export"


def test_every_raw_row_is_staged_superseded_deleted_or_quarantined(demo_warehouse: Warehouse) -> None:
    rows = _sorted_rows(demo_warehouse.db_path, "audit.audit_crm__row_accounting")
    assert rows, "no row accounting"
    assert len(rows) == 24
    for table, _file, present, raw, staged, superseded, deleted, quarantined, balanced, unchanged in rows:
        assert present and balanced and unchanged and raw == staged + superseded + deleted + quarantined, table


def test_quarantine_names_table_record_column_and_reason(demo_warehouse: Warehouse) -> None:
    with duckdb.connect(str(demo_warehouse.db_path), read_only=True) as connection:
        rows = connection.execute(
            "select table_name, source_file, source_row_number, record_id, column_name, raw_value, reason "
            "from audit.audit_crm__quarantined_rows order by all"
        ).fetchall()
    # The demo's four deliberately invalid rows, and the line items of its four soft-deleted deals.
    deleted_deal = "opportunity_id points to a soft-deleted opportunities record"
    no_rate = "no exchange rate to USD on or before the event date"
    assert [(row[0], row[1], row[2], row[4], row[6]) for row in rows] == [
        ("activities", "seeds/demo/activities.csv", 1, "occurred_at", "cannot parse as timestamp"),
        ("campaign_spend", "seeds/demo/campaign_spend.csv", 731, "currency", no_rate),
        ("leads", "seeds/demo/leads.csv", 42, "channel", "unknown value"),
        ("opportunity_line_items", "seeds/demo/opportunity_line_items.csv", 505, "opportunity_id", deleted_deal),
        ("opportunity_line_items", "seeds/demo/opportunity_line_items.csv", 509, "opportunity_id", deleted_deal),
        ("opportunity_line_items", "seeds/demo/opportunity_line_items.csv", 515, "opportunity_id", deleted_deal),
        ("opportunity_line_items", "seeds/demo/opportunity_line_items.csv", 525, "opportunity_id", deleted_deal),
        ("survey_responses", "seeds/demo/survey_responses.csv", 1, "score", "score out of range (nps 0-10, csat 1-10)"),
    ]  # fmt: skip
    for table, _file, row_number, record_id, _column, _value, _reason in rows:
        # The row the number points to is the row refused (the CSV's data rows, numbered from 1).
        with open(project_root() / "seeds" / "demo" / f"{table}.csv", encoding="utf-8", newline="") as handle:
            in_file = list(csv.reader(handle))[row_number]
        assert in_file[0] == str(record_id).split("|")[0], (table, row_number)


def test_export_with_only_required_tables_builds_with_empty_optional_kpis(tmp_path: Path) -> None:
    warehouse = build_warehouse(tmp_path, raw_path=FIXTURES / "required_tables_only")
    db = warehouse.db_path
    assert _sorted_rows(db, "marts.kpi_campaign_cac") == []
    assert _sorted_rows(db, "marts.kpi_churn_by_cohort") == []
    funnel = _sorted_rows(db, "marts.kpi_funnel_conversion")
    assert sum(row[2] for row in funnel) == 2  # lead_3 is quarantined (channel tv), lead_4 soft-deleted
    quarantined = _sorted_rows(db, "audit.audit_crm__quarantined_rows")
    leads_file = str(FIXTURES / "required_tables_only" / "leads.csv")
    assert quarantined == [("leads", leads_file, 3, "lead_3", "channel", "tv", "unknown value")]


def test_missing_required_table_fails_with_the_file_named(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    raw.mkdir()
    for name in ("users", "stages", "opportunities"):
        (raw / f"{name}.csv").write_bytes((FIXTURES / "required_tables_only" / f"{name}.csv").read_bytes())
    with pytest.raises(RawExportError, match=r"leads\.csv"):
        build_warehouse(tmp_path / "work", raw_path=raw)


def test_missing_required_table_fails_in_dbt_too_for_a_plain_dbt_build(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    raw.mkdir()
    for name in ("users", "stages", "opportunities"):
        (raw / f"{name}.csv").write_bytes((FIXTURES / "required_tables_only" / f"{name}.csv").read_bytes())
    settings = BuildSettings(
        db_path=tmp_path / "w.duckdb", raw_path=raw, artifacts_dir=tmp_path, quiet=True, unit_tests=False
    )
    with pytest.raises(DbtFailed, match=r"Required raw table 'leads' is missing: expected the file .*leads\.csv"):
        run_dbt(settings, ["build", "--select", "base_crm__leads"])
