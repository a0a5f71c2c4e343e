"""The performance floor (src/crm_kpi/floor.sql, one hand-written DuckDB script over the raw files) gives the
same five KPI tables as the dbt marts: same columns, same rows, same numbers."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import pytest

from compare import compare_frames, format_problems
from conftest import Warehouse
from crm_kpi.contract import TABLES, TABLES_BY_NAME
from crm_kpi.floor import FLOOR_TABLES, floor_sql, raw_reader, run_floor
from crm_kpi.ingest_floor import run_ingest_floor


def _literal(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


@pytest.fixture(scope="module")
def floor_csv(demo_warehouse: Any, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, int]]:
    """The floor run on the demo CSVs the warehouse was built from: its DuckDB file and rows per table."""
    db_path = tmp_path_factory.mktemp("floor_csv") / "floor_csv.duckdb"
    counts = run_floor(db_path, demo_warehouse.raw_dir, "csv", demo_warehouse.as_of)
    return db_path, counts


def test_floor_tables_are_kpi_marts(parsed_marts: dict[str, Any]) -> None:
    """The floor computes the five headline KPI marts (the benchmark's baseline), not every mart."""
    assert set(FLOOR_TABLES) <= {name for name, mart in parsed_marts.items() if mart.is_kpi}


def test_floor_sql_fills_every_placeholder(tmp_path: Path) -> None:
    for table in ("users", "leads", "opportunities", "stages"):
        (tmp_path / f"{table}.parquet").touch()
    script = floor_sql(tmp_path, "parquet", date(2025, 6, 30))
    assert "{" not in script.replace("{reader:<table>}", "")
    assert "date '2025-06-30'" in script
    assert f"read_parquet({_literal((tmp_path / 'leads.parquet').resolve())})" in script
    # An absent optional table reads as an empty relation with the contract's columns.
    assert "read_parquet" not in raw_reader(tmp_path, "parquet", "campaign_spend")
    with duckdb.connect() as connection:
        columns = connection.execute(f"select * from {raw_reader(tmp_path, 'parquet', 'campaign_spend')}").description
    assert [column[0] for column in columns] == ["campaign_id", "spend_date", "amount", "currency"]


def test_floor_sql_refuses_a_missing_required_table_or_an_unknown_format(tmp_path: Path) -> None:
    for table in ("users", "opportunities", "stages"):
        (tmp_path / f"{table}.csv").touch()
    with pytest.raises(FileNotFoundError, match="'leads' is missing"):
        floor_sql(tmp_path, "csv", date(2025, 6, 30))
    with pytest.raises(ValueError, match="raw_format"):
        floor_sql(tmp_path, "json", date(2025, 6, 30))


@pytest.mark.slow
@pytest.mark.parametrize("mart", sorted(FLOOR_TABLES))
def test_floor_matches_mart(mart: str, demo_warehouse: Warehouse, floor_csv: tuple[Path, dict[str, int]]) -> None:
    declared = demo_warehouse.kpi_marts()[mart]
    keys, money = declared.grain, declared.money_columns
    floor_path, _ = floor_csv
    with duckdb.connect(str(demo_warehouse.db_path), read_only=True) as connection:
        expected = connection.execute(f"select * from marts.{mart}").df()
        expected_types = connection.execute(f"describe marts.{mart}").fetchall()
    with duckdb.connect(str(floor_path), read_only=True) as connection:
        actual = connection.execute(f"select * from floor.{mart}").df()
        actual_types = connection.execute(f"describe floor.{mart}").fetchall()
    assert not expected.empty, f"{mart}: the mart is empty on the demo data (nothing would be checked)"
    assert [row[:2] for row in actual_types] == [row[:2] for row in expected_types], f"{mart}: columns or types differ"
    problems = compare_frames(mart, expected, actual, keys, money_cols=money)
    assert not problems, format_problems(problems)


@pytest.mark.slow
def test_floor_on_parquet_gives_the_same_row_counts(
    demo_warehouse: Any, demo_parquet_dir: Path, floor_csv: tuple[Path, dict[str, int]], tmp_path: Path
) -> None:
    parquet_dir = demo_parquet_dir
    counts = run_floor(tmp_path / "floor_parquet.duckdb", parquet_dir, "parquet", demo_warehouse.as_of)
    _, csv_counts = floor_csv
    assert counts == csv_counts
    with duckdb.connect(str(demo_warehouse.db_path), read_only=True) as connection:
        mart_counts = {
            table: connection.execute(f"select count(*) from marts.{table}").fetchall()[0][0] for table in FLOOR_TABLES
        }
    assert counts == mart_counts


@pytest.mark.slow
def test_ingest_floor_types_every_row_as_the_base_models_do(demo_warehouse: Warehouse, tmp_path: Path) -> None:
    """The ingest floor (every raw file read once, each column cast to its contract type) has every row of each
    file and, column by column, the values the base models parse from it: the money as exported, the enums as
    written (the base models lower-case them)."""
    counts = run_ingest_floor(tmp_path / "ingest.duckdb", demo_warehouse.raw_dir, "csv")
    assert set(counts) == {table.name for table in TABLES if (demo_warehouse.raw_dir / f"{table.name}.csv").is_file()}
    problems = []
    with duckdb.connect(str(demo_warehouse.db_path), read_only=True) as connection:
        connection.execute(f"attach {_literal(tmp_path / 'ingest.duckdb')} as ingest_floor (read_only)")
        for table in (TABLES_BY_NAME[name] for name in sorted(counts)):
            base = f"staging.base_crm__{table.name}"
            file_rows = connection.execute(f"select count(*) from {base}").fetchall()[0][0]
            assert counts[table.name] == file_rows > 0, table.name
            for column in table.columns:
                if table.money and column.name == "currency":
                    continue  # upper-cased as original_currency; compared through the money
                floor_value = f"lower({column.name})" if column.accepted_values or column.lowercase else column.name
                base_value = f"original_{column.name}" if column.name in table.money else column.name
                differing = connection.execute(
                    f"select count(*) from (select {floor_value} from ingest_floor.ingest.{table.name} "
                    f"except all select {base_value} from {base})"
                ).fetchall()[0][0]
                if differing:
                    problems.append(f"{table.name}.{column.name}: {differing} value(s) differ from {base}")
    assert not problems, "\n".join(problems)
