"""The generator: deterministic, reproduces the committed demo set byte for byte, writes every contract
column, keeps referential integrity and the contract's value rules (except the deliberate defects)."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from crm_kpi.contract import TABLES, TABLES_BY_NAME
from crm_kpi.generator import INJECTED_DEFECTS, generate
from crm_kpi.paths import project_root
from oracle import parse_timestamps  # naive timestamps are UTC (pandas alone gets mixed offsets wrong)

DEMO = project_root() / "seeds" / "demo"
SMALL = {"leads": 400, "start": date(2025, 1, 1), "end": date(2025, 12, 31)}


@pytest.fixture(scope="module")
def demo() -> dict[str, pd.DataFrame]:
    return {
        table.name: pd.read_csv(DEMO / f"{table.name}.csv", dtype=str, keep_default_na=False).replace("", None)
        for table in TABLES
    }


def _rows(frames: dict[str, pd.DataFrame], table: str) -> Iterator[dict[str, str | None]]:
    yield from frames[table].to_dict("records")


def test_same_arguments_give_identical_bytes(tmp_path: Path) -> None:
    generate(tmp_path / "a", seed=7, **SMALL)  # type: ignore[arg-type]
    generate(tmp_path / "b", seed=7, **SMALL)  # type: ignore[arg-type]
    for table in TABLES:
        assert (tmp_path / "a" / f"{table.name}.csv").read_bytes() == (
            tmp_path / "b" / f"{table.name}.csv"
        ).read_bytes()


def test_another_seed_gives_other_data(tmp_path: Path) -> None:
    generate(tmp_path / "a", seed=1, **SMALL)  # type: ignore[arg-type]
    generate(tmp_path / "b", seed=2, **SMALL)  # type: ignore[arg-type]
    assert (tmp_path / "a" / "leads.csv").read_bytes() != (tmp_path / "b" / "leads.csv").read_bytes()


def test_defaults_reproduce_the_committed_demo_set(tmp_path: Path) -> None:
    generate(tmp_path)
    for table in TABLES:
        committed = (DEMO / f"{table.name}.csv").read_bytes()
        assert (tmp_path / f"{table.name}.csv").read_bytes() == committed, (
            f"{table.name}.csv differs: run crm-kpi generate"
        )


def test_every_file_has_the_contract_columns_in_order() -> None:
    for table in TABLES:
        with (DEMO / f"{table.name}.csv").open(encoding="utf-8", newline="") as handle:
            assert next(csv.reader(handle)) == table.column_names, table.name


def test_parquet_output_has_the_same_rows(tmp_path: Path) -> None:
    csv_rows = generate(tmp_path / "csv", **SMALL)  # type: ignore[arg-type]
    parquet_rows = generate(tmp_path / "parquet", fmt="parquet", **SMALL)  # type: ignore[arg-type]
    assert csv_rows == parquet_rows
    for table in TABLES:
        assert len(pd.read_parquet(tmp_path / "parquet" / f"{table.name}.parquet")) == parquet_rows[table.name]


def _latest(frame: pd.DataFrame, key: str) -> pd.DataFrame:
    if "updated_at" not in frame:
        return frame
    ordered = frame.assign(_at=parse_timestamps(frame["updated_at"]))
    return ordered.sort_values("_at").drop_duplicates(key, keep="last").drop(columns="_at")


def test_keys_are_unique_after_taking_the_latest_re_export(demo: dict[str, pd.DataFrame]) -> None:
    for table in TABLES:
        frame = demo[table.name]
        if len(table.primary_key) == 1:
            latest = _latest(frame, table.primary_key[0])
            assert latest[table.primary_key[0]].is_unique, table.name
        else:
            assert not frame.duplicated(list(table.primary_key)).any(), table.name


def test_re_exports_and_soft_deletes_are_present(demo: dict[str, pd.DataFrame]) -> None:
    assert demo["leads"]["lead_id"].duplicated().sum() > 10
    assert (demo["leads"]["is_deleted"] == "true").sum() > 5
    assert (demo["campaigns"]["is_deleted"] == "true").sum() >= 1


def test_foreign_keys_point_to_existing_records(demo: dict[str, pd.DataFrame]) -> None:
    parents = ("users", "leads", "accounts", "opportunities", "campaigns", "products", "invoices", "competitors")
    ids = {name: set(demo[name][TABLES_BY_NAME[name].primary_key[0]]) for name in parents}
    checks = [
        ("leads", "owner_user_id", "users"),
        ("leads", "source_campaign_id", "campaigns"),
        ("opportunities", "account_id", "accounts"),
        ("opportunities", "owner_user_id", "users"),
        ("opportunities", "source_lead_id", "leads"),
        ("opportunity_stage_history", "opportunity_id", "opportunities"),
        ("opportunity_line_items", "product_id", "products"),
        ("lead_status_history", "lead_id", "leads"),
        ("campaign_touches", "campaign_id", "campaigns"),
        ("campaign_spend", "campaign_id", "campaigns"),
        ("subscriptions", "account_id", "accounts"),
        ("invoices", "account_id", "accounts"),
        ("refunds", "invoice_id", "invoices"),
        ("activities", "user_id", "users"),
        ("survey_responses", "account_id", "accounts"),
        ("quotas", "user_id", "users"),
        ("competitor_prices", "competitor_id", "competitors"),
    ]
    for table, column, parent in checks:
        values = set(demo[table][column].dropna())
        missing = values - ids[parent]
        assert not missing, f"{table}.{column} -> {parent}: {sorted(missing)[:5]}"


def test_enum_values_follow_the_contract_except_the_injected_defects(demo: dict[str, pd.DataFrame]) -> None:
    defects = {(defect["table"], defect["id"]) for defect in INJECTED_DEFECTS}
    for table in TABLES:
        key = table.primary_key[0]
        for column in table.columns:
            if not column.accepted_values:
                continue
            for row in _rows(demo, table.name):
                value = row[column.name]
                if value is None or (table.name, row[key]) in defects:
                    continue
                assert value.strip().lower() in column.accepted_values, f"{table.name}.{column.name}: {value!r}"


def test_value_rules_hold(demo: dict[str, pd.DataFrame]) -> None:
    surveys = demo["survey_responses"]
    valid = surveys[surveys["response_id"] != "rsp_9999990"]
    scores = valid["score"].astype(int)
    assert (
        scores.between(0, 10).all() and not valid.loc[valid["survey_type"] == "csat", "score"].astype(int).eq(0).any()
    )
    periods = demo["subscriptions"].dropna(subset=["period_end"])
    assert (periods["period_end"] > periods["period_start"]).all()
    stages = set(demo["stages"]["stage"])
    assert {value.strip().lower() for value in demo["opportunities"]["stage"]} <= stages


def test_current_opportunity_stage_is_its_last_history_row(demo: dict[str, pd.DataFrame]) -> None:
    history = demo["opportunity_stage_history"].assign(
        _at=parse_timestamps(demo["opportunity_stage_history"]["changed_at"])
    )
    last = history.sort_values("_at").groupby("opportunity_id").tail(1).set_index("opportunity_id")["stage"]
    current = _latest(demo["opportunities"], "opportunity_id").set_index("opportunity_id")["stage"]
    mismatched = [o for o, stage in current.items() if o in last and stage.strip().lower() != last[o]]
    assert not mismatched, mismatched[:5]


def test_lead_status_is_its_last_history_status(demo: dict[str, pd.DataFrame]) -> None:
    history = demo["lead_status_history"].assign(_at=parse_timestamps(demo["lead_status_history"]["changed_at"]))
    last = history.sort_values("_at").groupby("lead_id").tail(1).set_index("lead_id")["status"].str.strip().str.lower()
    current = _latest(demo["leads"], "lead_id").set_index("lead_id")["status"].str.strip().str.lower()
    mismatched = [lead for lead, status in current.items() if lead in last and status != last[lead]]
    assert not mismatched, mismatched[:5]
