"""The built KPI marts equal the oracle (tests/python/oracle.py), an independent pandas re-implementation of
the written definitions computed straight from the raw CSV files the warehouse was built from."""

from __future__ import annotations

from typing import Any

import duckdb
import pandas as pd
import pytest

import oracle
from compare import compare_frames, format_problems

# mart -> (grain keys, money columns)
MARTS: dict[str, tuple[list[str], list[str]]] = {
    "kpi_funnel_conversion": (["cohort_month", "channel"], []),
    "kpi_campaign_cac": (["campaign_id"], ["spend", "attributed_revenue"]),
    "kpi_campaign_cac_monthly": (["campaign_id", "month"], ["spend", "attributed_revenue"]),
    "kpi_churn_by_cohort": (["cohort_month", "months_since_start"], ["starting_mrr", "mrr", "retained_mrr"]),
    "kpi_revenue_per_rep": (["user_id", "month"], ["bookings", "lost_amount", "quota"]),
}


@pytest.fixture(scope="module")
def staged_raw(demo_warehouse: Any) -> oracle.Raw:
    return oracle.load_raw(demo_warehouse.raw_dir)


@pytest.fixture(scope="module")
def expected_marts(staged_raw: oracle.Raw, demo_warehouse: Any) -> dict[str, pd.DataFrame]:
    return oracle.all_marts(staged_raw, demo_warehouse.as_of)


@pytest.mark.slow
def test_as_of_date_matches_oracle(staged_raw: oracle.Raw, demo_warehouse: Any) -> None:
    assert oracle.as_of_date(staged_raw) == demo_warehouse.as_of


@pytest.mark.slow
@pytest.mark.parametrize("mart", sorted(MARTS))
def test_mart_matches_oracle(mart: str, demo_warehouse: Any, expected_marts: dict[str, pd.DataFrame]) -> None:
    keys, money = MARTS[mart]
    with duckdb.connect(str(demo_warehouse.db_path), read_only=True) as connection:
        actual = connection.execute(f"select * from marts.{mart}").df()
    expected = expected_marts[mart]
    assert not expected.empty, f"{mart}: the oracle gives no rows on the demo data (nothing would be checked)"
    problems = compare_frames(mart, expected, actual, keys, money_cols=money)
    assert not problems, format_problems(problems)
