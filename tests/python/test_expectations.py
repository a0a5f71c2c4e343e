"""The Great Expectations suites, built from each KPI mart's dbt declaration (manifest): they pass on the
demo build, write HTML data docs, and a broken mart fails with a message naming the mart, the column and
the expectation."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import duckdb
import pytest

from conftest import Warehouse
from crm_kpi import manifest
from crm_kpi.expectations import ExpectationsFailed, build_suite, format_failures, run_expectations, validate_duckdb
from crm_kpi.manifest import Mart

pytestmark = pytest.mark.slow


@pytest.fixture()
def warehouse(demo_warehouse: Warehouse, tmp_path: Path) -> Path:
    """A copy of the demo build that a test may break (same base name: views bind to the catalog name)."""
    copy = tmp_path / "copy" / demo_warehouse.db_path.name
    copy.parent.mkdir()
    shutil.copy(demo_warehouse.db_path, copy)
    return copy


@pytest.fixture()
def kpi_marts(demo_warehouse: Warehouse) -> list[Mart]:
    return list(demo_warehouse.kpi_marts().values())


def _break(db_path: Path, *statements: str) -> None:
    """Run statements that break marts. Each mart they name is first replaced by a copy without the
    contract's constraints (DuckDB would refuse the broken rows): the suites must catch rows that got
    in anyway, as in tables written by another tool."""
    with duckdb.connect(str(db_path)) as connection:
        for table in dict.fromkeys(re.findall(r"\bmarts\.\w+", " ".join(statements))):
            connection.execute(f"create or replace table {table} as select * from {table}")
        for statement in statements:
            connection.execute(statement)


def test_every_kpi_mart_suite_checks_columns_grain_and_ranges(kpi_marts: list[Mart]) -> None:
    assert kpi_marts
    for mart in kpi_marts:
        suite = build_suite(mart)
        assert suite.name == f"{mart.name}_suite"
        types = [expectation.expectation_type for expectation in suite.expectations]
        assert types.count("expect_table_columns_to_match_set") == 1, mart.name
        assert {"expect_column_values_to_be_unique", "expect_compound_columns_to_be_unique"} & set(types), mart.name
        assert all(getattr(expectation, "mostly", 1) == 1 for expectation in suite.expectations), mart.name
        # No expectation repeats a rule the table enforces: on the built mart it could not fail.
        enforced = {(test.name, test.column) for test in mart.tests if test.constraint}
        for expectation in suite.expectations:
            if getattr(expectation, "row_condition", None):
                continue
            rule = {
                "expect_column_values_to_not_be_null": "not_null",
                "expect_column_values_to_be_in_set": "accepted_values",
            }.get(expectation.expectation_type)
            if expectation.expectation_type == "expect_column_values_to_be_between":
                rule = "rate_between_zero_and_one" if getattr(expectation, "max_value", None) == 1 else "non_negative"
            assert (rule, getattr(expectation, "column", None)) not in enforced, (mart.name, expectation)


def test_suites_pass_on_the_demo_build_and_write_data_docs(
    warehouse: Path, kpi_marts: list[Mart], tmp_path: Path
) -> None:
    docs = tmp_path / "docs"
    results = run_expectations(warehouse, docs, kpi_marts)
    assert [result.mart for result in results] == [mart.name for mart in kpi_marts]
    assert all(result.success and not result.failures for result in results), format_failures(results)
    # every expectation of each suite ran: the column set, the grain, the rules no constraint holds
    evaluated = [result.evaluated for result in results]
    assert evaluated == [len(build_suite(mart).expectations) for mart in kpi_marts]
    assert all(count >= 2 for count in evaluated)  # at least the column set and the grain
    assert (docs / "index.html").is_file()
    assert "all expectations passed" in format_failures(results)
    # Nothing but the docs site is written: no GX project (gx/, great_expectations.yml) next to the data.
    assert sorted(path.name for path in tmp_path.iterdir()) == ["copy", "docs"]
    assert sorted(path.name for path in warehouse.parent.iterdir()) == [warehouse.name]


def test_a_broken_mart_fails_naming_mart_column_and_expectation(
    warehouse: Path, kpi_marts: list[Mart], tmp_path: Path
) -> None:
    _break(
        warehouse,
        "update marts.kpi_lead_response set prospects_positive = -1 where grouping_level = 'all'",
        "insert into marts.kpi_revenue_per_rep select * from marts.kpi_revenue_per_rep limit 1",
        "update marts.kpi_mrr_movements set customers_at_end = -2 where breakdown = 'total'",
        "update marts.kpi_customer_satisfaction set segment = null where breakdown = 'product'",
    )
    with pytest.raises(ExpectationsFailed) as failure:
        run_expectations(warehouse, tmp_path / "docs", kpi_marts)
    message = str(failure.value)
    assert "kpi_lead_response.prospects_positive: expect_column_values_to_be_between (" in message
    assert "e.g. [-1" in message
    assert "kpi_revenue_per_rep.user_id,month: expect_compound_columns_to_be_unique (2 unexpected" in message
    assert "kpi_mrr_movements.customers_at_end: expect_column_values_to_be_between (" in message
    assert "kpi_customer_satisfaction.segment: expect_column_values_to_not_be_null (" in message
    assert "kpi_campaign_cac_monthly" not in message
    failed = {result.mart for result in failure.value.results if not result.success}
    assert failed == {"kpi_lead_response", "kpi_revenue_per_rep", "kpi_mrr_movements", "kpi_customer_satisfaction"}
    assert (tmp_path / "docs" / "index.html").is_file()


def test_invariants_and_null_ratios_are_checked(warehouse: Path, kpi_marts: list[Mart], tmp_path: Path) -> None:
    _break(
        warehouse,
        "update marts.kpi_funnel_conversion set sqls = mqls + 1 where leads > 0",
        "update marts.kpi_campaign_cac_monthly set cac = 0 where new_customers = 0",
        "update marts.kpi_campaign_cac_monthly set cost_per_lead = null where leads > 0",
    )
    message = format_failures(validate_duckdb(warehouse, tmp_path / "docs", kpi_marts))
    assert "kpi_funnel_conversion.mqls,sqls: expect_column_pair_values_a_to_be_greater_than_b" in message
    assert "kpi_campaign_cac_monthly.cac: expect_column_values_to_be_null (" in message
    assert "unexpected where" in message
    assert "kpi_campaign_cac_monthly.cost_per_lead: expect_column_values_to_not_be_null (" in message


def test_a_missing_column_is_reported(warehouse: Path, kpi_marts: list[Mart], tmp_path: Path) -> None:
    _break(warehouse, "alter table marts.kpi_revenue_per_rep drop column quota_attainment")
    results = validate_duckdb(warehouse, tmp_path / "docs", kpi_marts)
    message = format_failures(results)
    assert "kpi_revenue_per_rep.(table): expect_table_columns_to_match_set" in message
    assert "quota_attainment" in message.split("expect_table_columns_to_match_set", 1)[1]
    assert [result.mart for result in results if not result.success] == ["kpi_revenue_per_rep"]


_VIOLATIONS = {  # a value each rule form refuses
    "not_null": lambda test: "null",
    "non_negative": lambda test: "-1",
    "rate_between_zero_and_one": lambda test: "2",
    "at_least": lambda test: str(test.kwargs["min_value"] - 1),
    "accepted_values": lambda test: "'not an accepted value'" if isinstance(test.kwargs["values"][0], str) else "-99",
}


def test_every_column_constraint_refuses_a_violating_row(warehouse: Path, kpi_marts: list[Mart]) -> None:
    """The contract constraints that replace row tests are in each table: for every mart and each rule read
    back from a constraint, a row that breaks it is refused by DuckDB, the error naming the column."""
    marts = [mart for mart in kpi_marts if any(test.constraint for test in mart.tests)]
    checked = 0
    with duckdb.connect(str(warehouse)) as connection:
        for mart in marts:
            for test in (test for test in mart.tests if test.constraint):
                value = _VIOLATIONS[test.name](test)
                statement = (
                    f"insert into marts.{mart.name} select * replace ({value} as {test.column}) "
                    f"from marts.{mart.name} limit 1"
                )
                with pytest.raises(duckdb.ConstraintException, match=re.escape(str(test.column))):
                    connection.execute(statement)
                checked += 1
    assert len(marts) == len(kpi_marts)  # every KPI mart declares its row rules as constraints
    assert checked >= 150


def test_each_marts_ratio_test_finds_a_wrong_ratio_and_names_its_column(
    demo_warehouse: Warehouse, warehouse: Path
) -> None:
    """The dbt test `columns_equal_ratios` (one query per mart for all its ratios), as the demo build compiled
    it: no row on the built marts; after one ratio column of each mart is moved off its recomputation,
    rows naming that column (or more: a ratio computed from a broken ratio is off too)."""
    built = manifest.load(manifest.manifest_path(demo_warehouse.artifacts_dir / "target"))
    ratio_tests = [
        node
        for node in built["nodes"].values()
        if node["resource_type"] == "test" and (node.get("test_metadata") or {}).get("name") == manifest.RATIOS_TEST
    ]
    assert len(ratio_tests) >= 15
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        for node in ratio_tests:
            assert connection.execute(node["compiled_code"]).fetchall() == [], node["name"]
    broken = {}
    declared = {mart.name: mart for mart in manifest.kpi_marts(built)}
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        for node in ratio_tests:
            mart = node["attached_node"].split(".")[-1]
            ratios = list(declared[mart].ratios)  # the ratios the mart declares in its columns' meta
            counts = connection.execute(
                f"select {', '.join(f'count({c})' for c in ratios)} from marts.{mart}"
            ).fetchone()
            broken[node["name"]] = (mart, next(c for c, n in zip(ratios, counts or (), strict=True) if n))
    _break(warehouse, *(f"update marts.{mart} set {column} = {column} + 1" for mart, column in broken.values()))
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        for node in ratio_tests:
            found = connection.execute(f"select distinct ratio_column from ({node['compiled_code']})").fetchall()
            assert (broken[node["name"]][1],) in found, node["name"]  # (and ratios computed from it)
