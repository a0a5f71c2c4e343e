"""An export without the optional stage history answers what the deals' own dates determine.

The demo export less `opportunity_stage_history`: the close ratio's worked deals, the open deals at every
period end and the deals created per period follow from each opportunity's created_at and close_date, and
are recomputed here in pandas from the core fact `fct_opportunities` (the model's dated states are not
read). What only the history knows (past amounts, probabilities, the stage at a period end) is null or
absent, never 0, and the run summary names exactly the marts and columns the missing table leaves
unanswered, from the marts' declared needs and their lineage.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import duckdb
import pandas as pd
import pytest

from conftest import Warehouse, build_warehouse
from crm_kpi import lineage, manifest, summary
from crm_kpi.paths import project_root
from crm_kpi.settings import BuildSettings

STAGE_HISTORY = "opportunity_stage_history"


@pytest.fixture(scope="module")
def no_history(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Warehouse]:
    raw = tmp_path_factory.mktemp("no_history_raw")
    for path in (project_root() / "seeds" / "demo").glob("*.csv"):
        if path.stem != STAGE_HISTORY:
            shutil.copy(path, raw / path.name)
    yield build_warehouse(tmp_path_factory.mktemp("no_history"), raw_path=raw)


def _query(warehouse: Warehouse, sql: str) -> pd.DataFrame:
    with duckdb.connect(str(warehouse.db_path), read_only=True) as connection:
        return connection.execute(sql).df()


def _months(warehouse: Warehouse) -> pd.DataFrame:
    return _query(
        warehouse,
        "select period_start, period_end, snapshot_date from intermediate.int_periods_spined "
        "where period_type = 'month' order by period_start",
    )


def _deals(warehouse: Warehouse) -> pd.DataFrame:
    columns = "opportunity_id, created_at, close_date, is_closed_by_as_of"
    deals = _query(warehouse, f"select {columns} from marts.fct_opportunities")
    deals["created_on"] = pd.to_datetime(deals["created_at"]).dt.normalize()
    deals["close_date"] = pd.to_datetime(deals["close_date"])
    return deals


@pytest.mark.slow
def test_close_ratio_counts_the_deals_open_in_the_month_from_their_dates(no_history: Warehouse) -> None:
    deals, months = _deals(no_history), _months(no_history)
    expected = {}
    for month in months.itertuples():
        start, end = pd.Timestamp(month.period_start), pd.Timestamp(month.period_end)
        still_open = ~deals["is_closed_by_as_of"].astype(bool) | (deals["close_date"] >= start)
        expected[month.period_start] = int(((deals["created_on"] <= end) & still_open).sum())
    mart = _query(
        no_history,
        "select period_start, worked_deals, closed_deals, won_deals, win_rate, close_ratio "
        "from marts.kpi_win_rate_and_cycle where breakdown = 'company' and period_type = 'month'",
    )
    assert dict(zip(mart["period_start"], mart["worked_deals"], strict=True)) == expected
    # Before, without history a worked deal was only a closed one: the close ratio was the win rate.
    assert (mart["worked_deals"] > mart["closed_deals"]).sum() >= len(mart) - 2
    both = mart.dropna(subset=["win_rate", "close_ratio"])
    assert (both["close_ratio"] < both["win_rate"]).any()
    assert (mart["close_ratio"].dropna() == (mart["won_deals"] / mart["worked_deals"]).dropna()).all()


@pytest.mark.slow
def test_open_and_created_deal_counts_from_dates_and_values_unknown(no_history: Warehouse) -> None:
    deals, months = _deals(no_history), _months(no_history)
    open_at, created = {}, {}
    for month in months.itertuples():
        start, end = pd.Timestamp(month.period_start), pd.Timestamp(month.period_end)
        snapshot = pd.Timestamp(month.snapshot_date)
        closed_by_then = deals["is_closed_by_as_of"].astype(bool) & (deals["close_date"] <= snapshot)
        open_at[month.period_start] = int(((deals["created_on"] <= snapshot) & ~closed_by_then).sum())
        created[month.period_start] = int(deals["created_on"].between(start, end).sum())
    pipeline = _query(
        no_history, "select * from marts.kpi_pipeline_by_period where period_type = 'month' and breakdown = 'company'"
    )
    assert dict(zip(pipeline["period_start"], pipeline["open_deals"], strict=True)) == open_at
    assert dict(zip(pipeline["period_start"], pipeline["created_deals"], strict=True)) == created
    assert sum(open_at.values()) > 0 and sum(created.values()) > 0
    values = ["open_value", "weighted_open_value", "open_value_closing_next_period", "created_value"]
    assert pipeline[values].isna().all().all(), "a value only the stage history knows must be null, not 0"
    stages = _query(no_history, "select count(*) as n from marts.kpi_pipeline_by_period where breakdown = 'stage'")
    assert stages["n"][0] == 0, "no stage at a period end without the stage history"
    sourced = _query(no_history, "select * from marts.kpi_marketing_sourced_pipeline where period_type = 'month'")
    assert sourced["created_opportunities"].sum() > 0 and sourced["open_opportunities"].sum() > 0
    assert sourced[["created_value", "open_value", "weighted_open_value"]].isna().all().all()
    for mart in ("kpi_pipeline_waterfall", "kpi_opportunity_scores"):
        assert _query(no_history, f"select count(*) as n from marts.{mart}")["n"][0] == 0


@pytest.mark.slow
def test_the_summary_names_what_the_missing_history_leaves_unanswered(no_history: Warehouse) -> None:
    settings = BuildSettings(db_path=no_history.db_path, artifacts_dir=no_history.artifacts_dir)
    reasons = summary.empty_kpi_reasons(settings, ["kpi_pipeline_waterfall", "kpi_opportunity_scores"])
    assert reasons == {
        "kpi_pipeline_waterfall": "needs opportunity_stage_history (absent)",
        "kpi_opportunity_scores": "needs opportunity_stage_history (absent)",
    }
    unanswered = summary.null_kpi_columns(settings, ["kpi_pipeline_by_period", "kpi_win_rate_and_cycle"])
    assert unanswered == {
        "kpi_pipeline_by_period": "open_value, weighted_open_value, open_value_closing_next_period, "
        "weighted_value_closing_next_period, created_value null: need opportunity_stage_history (absent)"
    }


@pytest.mark.slow
def test_declared_needs_are_optional_tables_the_mart_reads(no_history: Warehouse) -> None:
    """A mart or column can only need a raw table its lineage reaches, and only an optional one."""
    built = manifest.load(manifest.manifest_path(no_history.artifacts_dir / "target"))
    sources = built["sources"].values()
    required = {node["name"] for node in sources if (node.get("meta") or {}).get("required")}
    assert {"users", "leads", "opportunities"} <= required
    declared = 0
    for mart in manifest.marts(built):
        reads = lineage.raw_inputs(built, mart.name)
        for table in {*mart.needs, *(table for column in mart.columns for table in column.needs)}:
            declared += 1
            assert table in reads, f"{mart.name} declares it needs {table}, which its lineage does not reach"
            assert table not in required, f"{mart.name}: {table} is required, a build without it fails anyway"
    assert declared >= 3
