"""The Great Expectations suites pass on the demo marts, write HTML data docs, and a broken mart fails
with a message naming the mart, the column and the expectation."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest

from conftest import Warehouse
from crm_kpi.expectations import MARTS, ExpectationsFailed, build_suite, run_expectations

pytestmark = pytest.mark.slow


def test_every_kpi_mart_has_a_suite_with_grain_and_range_checks() -> None:
    import great_expectations as gx

    gx.get_context(mode="ephemeral")
    for mart in MARTS:
        suite = build_suite(mart, ["placeholder"])
        types = {expectation.expectation_type for expectation in suite.expectations}
        assert "expect_column_values_to_not_be_null" in types, mart
        assert types & {"expect_column_values_to_be_unique", "expect_compound_columns_to_be_unique"}, mart
        assert "expect_column_values_to_be_between" in types, mart


def test_suites_pass_on_the_demo_marts_and_write_data_docs(demo_warehouse: Warehouse, tmp_path: Path) -> None:
    results = run_expectations(demo_warehouse.db_path, tmp_path / "docs")
    assert {result.mart for result in results} == set(MARTS)
    assert all(result.success and result.evaluated > 5 for result in results)
    assert (tmp_path / "docs" / "index.html").is_file()


def test_a_broken_mart_fails_naming_mart_column_and_expectation(demo_warehouse: Warehouse, tmp_path: Path) -> None:
    broken = tmp_path / "broken.duckdb"
    shutil.copy(demo_warehouse.db_path, broken)
    with duckdb.connect(str(broken)) as connection:
        connection.execute(
            "update marts.kpi_funnel_conversion set mql_rate = 1.5"
            " where cohort_month = (select min(cohort_month) from marts.kpi_funnel_conversion)"
        )
        connection.execute("insert into marts.kpi_revenue_per_rep select * from marts.kpi_revenue_per_rep limit 1")
        connection.execute(
            "update marts.kpi_churn_by_cohort set logo_retention = 0.9 where months_since_start = 0"
            " and cohort_month = (select min(cohort_month) from marts.kpi_churn_by_cohort)"
        )
    with pytest.raises(ExpectationsFailed) as failure:
        run_expectations(broken, tmp_path / "docs")
    message = str(failure.value)
    assert "kpi_funnel_conversion.mql_rate: expect_column_values_to_be_between" in message
    assert "kpi_revenue_per_rep.user_id,month: expect_compound_columns_to_be_unique" in message
    assert "kpi_churn_by_cohort.logo_retention: expect_column_values_to_be_between (1 unexpected" in message
