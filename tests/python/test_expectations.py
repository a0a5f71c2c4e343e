"""The Great Expectations suites on hand-made marts (no dbt): they pass on rows that honour the spec, write
HTML data docs, and a broken mart fails with a message naming the mart, the column and the expectation."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from crm_kpi.expectations import (
    MART_SPECS,
    MARTS,
    ExpectationsFailed,
    MartResult,
    build_suite,
    format_failures,
    run_expectations,
    validate_duckdb,
)

# Every mart with its contract types (DuckDB) and a few rows honouring the definitions, including the
# zero-denominator cases (null ratios).
MART_TABLES = {
    "kpi_funnel_conversion": """
        create table marts.kpi_funnel_conversion (
            cohort_month date, channel varchar, leads bigint, mqls bigint, sqls bigint, opportunities bigint,
            customers bigint, mql_rate double, sql_rate double, opportunity_rate double, win_rate double,
            lead_to_customer_rate double, median_days_to_mql double, median_days_mql_to_sql double,
            median_days_sql_to_opportunity double, median_days_opportunity_to_won double,
            leads_previous_month bigint, leads_growth_rate double);
        insert into marts.kpi_funnel_conversion values
            ('2024-01-01', 'paid_search', 10, 5, 2, 2, 1, 0.5, 0.4, 1.0, 0.5, 0.1, 3.5, 7.0, 2.0, 30.0, 0, null),
            ('2024-02-01', 'paid_search', 8, 4, 0, 0, 0, 0.5, 0.0, null, null, 0.0, 1.0, null, null, null, 10, -0.2),
            ('2024-01-01', 'organic', 4, 0, 0, 0, 0, 0.0, null, null, null, 0.0, null, null, null, null, 0, null);
    """,
    "kpi_campaign_cac": """
        create table marts.kpi_campaign_cac (
            campaign_id varchar, campaign_name varchar, channel varchar, attribution_rule varchar,
            spend decimal(18,2), leads bigint, mqls bigint, new_customers bigint, attributed_revenue decimal(18,2),
            cost_per_lead double, cost_per_mql double, cac double, roi double);
        insert into marts.kpi_campaign_cac values
            ('c1', 'Spring search', 'paid_search', 'first_touch', 1000.00, 10, 5, 2, 5000.00, 100.0, 200.0, 500.0, 4.0),
            ('c2', 'Webinar', 'webinar', 'first_touch', 0.00, 3, 0, 0, 0.00, 0.0, null, null, null),
            ('c3', 'Display', 'display', 'first_touch', 500.00, 0, 0, 0, 0.00, null, null, null, -1.0);
    """,
    "kpi_campaign_cac_monthly": """
        create table marts.kpi_campaign_cac_monthly (
            campaign_id varchar, month date, campaign_name varchar, channel varchar, attribution_rule varchar,
            spend decimal(18,2), leads bigint, mqls bigint, new_customers bigint, attributed_revenue decimal(18,2),
            cost_per_lead double, cost_per_mql double, cac double, roi double);
        insert into marts.kpi_campaign_cac_monthly values
            ('c1', '2024-01-01', 'Spring search', 'paid_search', 'first_touch', 600.00, 6, 3, 1, 1000.00,
             100.0, 200.0, 600.0, 0.6666666666666666),
            ('c1', '2024-02-01', 'Spring search', 'paid_search', 'first_touch', 400.00, 4, 2, 1, 4000.00,
             100.0, 200.0, 400.0, 9.0),
            ('c2', '2024-01-01', 'Webinar', 'webinar', 'first_touch', 0.00, 3, 0, 0, 0.00, 0.0, null, null, null);
    """,
    "kpi_churn_by_cohort": """
        create table marts.kpi_churn_by_cohort (
            cohort_month date, months_since_start integer, month date, cohort_size bigint, active_customers bigint,
            churned_customers bigint, logo_retention double, logo_churn double, starting_mrr decimal(18,2),
            mrr decimal(18,2), retained_mrr decimal(18,2), gross_revenue_retention double,
            net_revenue_retention double);
        insert into marts.kpi_churn_by_cohort values
            ('2024-01-01', 0, '2024-01-01', 4, 4, 0, 1.0, 0.0, 400.00, 400.00, 400.00, 1.0, 1.0),
            ('2024-01-01', 1, '2024-02-01', 4, 3, 1, 0.75, 0.25, 400.00, 450.00, 300.00, 0.75, 1.125),
            ('2024-01-01', 2, '2024-03-01', 4, 0, 4, 0.0, 1.0, 400.00, 0.00, 0.00, 0.0, 0.0),
            ('2024-02-01', 0, '2024-02-01', 2, 2, 0, 1.0, 0.0, 0.00, 0.00, 0.00, null, null);
    """,
    "kpi_revenue_per_rep": """
        create table marts.kpi_revenue_per_rep (
            user_id varchar, month date, rep_name varchar, role varchar, bookings decimal(18,2), won_deals bigint,
            lost_deals bigint, lost_amount decimal(18,2), average_deal_size double, win_rate double,
            amount_win_rate double, quota decimal(18,2), quota_attainment double);
        insert into marts.kpi_revenue_per_rep values
            ('u1', '2024-01-01', 'Ada', 'ae', 3000.00, 2, 1, 1000.00, 1500.0, 0.6666666666666666, 0.75,
             6000.00, 0.5),
            ('u1', '2024-02-01', 'Ada', 'ae', 0.00, 0, 0, 0.00, null, null, null, 6000.00, 0.0),
            ('u2', '2024-01-01', 'Bob', 'sdr', 0.00, 0, 2, 500.00, null, 0.0, 0.0, null, null);
    """,
}


def make_warehouse(path: Path) -> Path:
    with duckdb.connect(str(path)) as connection:
        connection.execute("create schema marts")
        for statements in MART_TABLES.values():
            connection.execute(statements)
    return path


@pytest.fixture()
def warehouse(tmp_path: Path) -> Path:
    return make_warehouse(tmp_path / "warehouse.duckdb")


def _break(db_path: Path, *statements: str) -> None:
    with duckdb.connect(str(db_path)) as connection:
        for statement in statements:
            connection.execute(statement)


def test_every_kpi_mart_has_a_suite_with_columns_grain_and_ranges() -> None:
    assert set(MARTS) == set(MART_TABLES)
    for mart in MARTS:
        suite = build_suite(mart)
        assert suite.name == f"{mart}_suite"
        types = [expectation.expectation_type for expectation in suite.expectations]
        assert types.count("expect_column_to_exist") == len(MART_SPECS[mart].columns), mart
        assert "expect_table_columns_to_match_set" in types, mart
        assert "expect_table_row_count_to_be_between" in types, mart
        assert "expect_column_values_to_not_be_null" in types, mart
        assert {"expect_column_values_to_be_unique", "expect_compound_columns_to_be_unique"} & set(types), mart
        assert "expect_column_values_to_be_between" in types, mart
        assert all(getattr(expectation, "mostly", 1) == 1 for expectation in suite.expectations), mart


def test_suite_columns_match_the_hand_made_contract_tables(warehouse: Path) -> None:
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        for mart, spec in MART_SPECS.items():
            columns = [row[0] for row in connection.execute(f"describe marts.{mart}").fetchall()]
            assert tuple(columns) == spec.columns, mart


def test_suites_pass_on_marts_that_honour_the_spec_and_write_data_docs(warehouse: Path, tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    results = run_expectations(warehouse, docs)
    assert [result.mart for result in results] == list(MARTS)
    assert all(result.success and not result.failures for result in results), format_failures(results)
    assert all(result.evaluated >= 25 for result in results)
    assert (docs / "index.html").is_file()
    assert all(result.docs_index == (docs / "index.html").resolve() for result in results)
    assert "all expectations passed" in format_failures(results)
    # Nothing but the docs site is written: no GX project (gx/, great_expectations.yml) next to the data.
    assert sorted(path.name for path in tmp_path.iterdir()) == ["docs", "warehouse.duckdb"]


def test_a_broken_mart_fails_naming_mart_column_and_expectation(warehouse: Path, tmp_path: Path) -> None:
    _break(
        warehouse,
        "update marts.kpi_funnel_conversion set mql_rate = 1.5 where channel = 'organic'",
        "insert into marts.kpi_revenue_per_rep select * from marts.kpi_revenue_per_rep where user_id = 'u2'",
        "update marts.kpi_churn_by_cohort set logo_retention = 0.9 where cohort_month = '2024-02-01'",
        "update marts.kpi_campaign_cac set channel = 'tv' where campaign_id = 'c2'",
    )
    with pytest.raises(ExpectationsFailed) as failure:
        run_expectations(warehouse, tmp_path / "docs")
    message = str(failure.value)
    assert "kpi_funnel_conversion.mql_rate: expect_column_values_to_be_between (1 unexpected, e.g. [1.5])" in message
    assert "kpi_revenue_per_rep.user_id,month: expect_compound_columns_to_be_unique (2 unexpected" in message
    assert "kpi_churn_by_cohort.logo_retention: expect_column_values_to_be_between (1 unexpected where" in message
    assert "kpi_campaign_cac.channel: expect_column_values_to_be_in_set (1 unexpected, e.g. ['tv'])" in message
    assert "kpi_campaign_cac_monthly" not in message
    failed = {result.mart for result in failure.value.results if not result.success}
    assert failed == {"kpi_funnel_conversion", "kpi_revenue_per_rep", "kpi_churn_by_cohort", "kpi_campaign_cac"}
    assert (tmp_path / "docs" / "index.html").is_file()


def test_invariants_and_null_ratios_are_checked(warehouse: Path, tmp_path: Path) -> None:
    _break(
        warehouse,
        "update marts.kpi_funnel_conversion set sqls = 6 where cohort_month = '2024-01-01' and channel = 'paid_search'",
        "update marts.kpi_churn_by_cohort set active_customers = 5 where months_since_start = 1",
        "update marts.kpi_campaign_cac_monthly set cac = 0 where campaign_id = 'c2'",
        "update marts.kpi_campaign_cac_monthly set attribution_rule = 'last_touch' where campaign_id = 'c1'",
    )
    results = validate_duckdb(warehouse, tmp_path / "docs")
    message = format_failures(results)
    assert "kpi_funnel_conversion.mqls,sqls: expect_column_pair_values_a_to_be_greater_than_b" in message
    pair = "expect_column_pair_values_a_to_be_greater_than_b"
    assert f"kpi_churn_by_cohort.cohort_size,active_customers: {pair}" in message
    assert "kpi_campaign_cac_monthly.cac: expect_column_values_to_be_null (1 unexpected where" in message
    assert "kpi_campaign_cac_monthly.attribution_rule: expect_column_values_to_be_in_set (2 unexpected" in message


def test_a_missing_column_is_reported(warehouse: Path, tmp_path: Path) -> None:
    _break(warehouse, "alter table marts.kpi_revenue_per_rep drop column quota_attainment")
    results: list[MartResult] = validate_duckdb(warehouse, tmp_path / "docs")
    message = format_failures(results)
    assert "kpi_revenue_per_rep.quota_attainment: expect_column_to_exist" in message
    assert "kpi_revenue_per_rep.(table): expect_table_columns_to_match_set" in message
    assert [result.mart for result in results if not result.success] == ["kpi_revenue_per_rep"]
