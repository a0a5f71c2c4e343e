"""The built KPI marts equal the oracle (tests/python/oracle/), an independent pandas re-implementation of
the written definitions computed straight from the raw CSV files the warehouse was built from.

Which mart each oracle function reproduces is declared once, by `@mart` next to the function; the grain
and the money columns come from the mart's YAML (the dbt manifest)."""

from __future__ import annotations

import pandas as pd
import pytest

import oracle
from compare import compare_frames, format_problems
from conftest import Warehouse
from crm_kpi.manifest import Mart


@pytest.fixture(scope="module")
def staged_raw(demo_warehouse: Warehouse) -> oracle.Raw:
    return oracle.load_raw(demo_warehouse.raw_dir)


@pytest.fixture(scope="module")
def expected_marts(staged_raw: oracle.Raw, demo_warehouse: Warehouse) -> dict[str, pd.DataFrame]:
    return oracle.all_marts(staged_raw, demo_warehouse.as_of)


def test_every_kpi_mart_has_an_oracle_function(parsed_marts: dict[str, Mart]) -> None:
    kpi_marts = {name for name, mart in parsed_marts.items() if mart.is_kpi}
    assert not kpi_marts - set(oracle.MARTS), "KPI marts without an oracle function (@mart in tests/python/oracle/)"
    assert not set(oracle.MARTS) - kpi_marts, "oracle functions for marts that the project does not build"


@pytest.mark.slow
def test_as_of_date_matches_oracle(staged_raw: oracle.Raw, demo_warehouse: Warehouse) -> None:
    assert oracle.as_of_date(staged_raw) == demo_warehouse.as_of


@pytest.mark.slow
@pytest.mark.parametrize("mart", sorted(oracle.MARTS))
def test_mart_matches_oracle(mart: str, demo_warehouse: Warehouse, expected_marts: dict[str, pd.DataFrame]) -> None:
    declared = demo_warehouse.kpi_marts()[mart]
    expected = expected_marts[mart]
    assert not expected.empty, f"{mart}: the oracle gives no rows on the demo data (nothing would be checked)"
    problems = compare_frames(
        mart, expected, demo_warehouse.frame(mart), declared.grain, money_cols=declared.money_columns
    )
    assert not problems, format_problems(problems)
