"""The benchmark command works end to end at a small size (figures printed and saved; no timing asserted)."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from crm_kpi.benchmark import BenchmarkResult, Step, format_table
from crm_kpi.cli import main
from crm_kpi.floor import FLOOR_TABLES


@pytest.mark.slow
def test_benchmark_at_a_small_size(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    json_path = tmp_path / "figures.json"
    assert main(["benchmark", "--leads", "1500", "--workdir", str(tmp_path), "--json", str(json_path)]) == 0
    printed = capsys.readouterr().out
    figures = json.loads(json_path.read_text())
    names = ["models", "kpi models", "floor marts", "build", "ingest floor", "floor", "incremental"]
    assert [step["name"] for step in figures["steps"]] == names
    for step in figures["steps"]:
        assert step["seconds"] > 0 and step["peak_rss_mib"] > 0, step
        assert step["name"] in printed
        if "floor" not in step["name"].split():  # where a dbt step's time went: its slowest models, printed too
            assert len(step["slowest"]) == 5 and all(seconds >= 0 for seconds in step["slowest"].values()), step
            assert f"slowest in {step['name']}: {next(iter(step['slowest']))}" in printed
            assert set(step["slowest"]) <= set(step["model_seconds"]), step
    # The five marts' subgraph: those marts and what they are built from, far fewer models than the build.
    floor_marts = figures["steps"][names.index("floor marts")]["model_seconds"]
    assert set(FLOOR_TABLES) <= set(floor_marts) and len(floor_marts) < len(figures["steps"][0]["model_seconds"])
    assert set(figures["ratios"]) == {
        "models / ingest floor",
        "floor marts / floor",
        "build / ingest floor",
        "incremental / models",
    }
    assert figures["raw_rows"] > 1500 and figures["leads"] == 1500
    root = tmp_path / "1500_leads"
    with duckdb.connect(str(root / "floor_script.duckdb"), read_only=True) as connection:
        floor_rows = connection.execute("select count(*) from floor.kpi_funnel_conversion").fetchone()
    with duckdb.connect(str(root / "build.duckdb"), read_only=True) as connection:
        mart_rows = connection.execute("select count(*) from marts.kpi_funnel_conversion").fetchone()
    assert floor_rows is not None and floor_rows[0] > 0
    assert mart_rows is not None and mart_rows[0] > 0


def test_format_table_names_every_step() -> None:
    result = BenchmarkResult("S", 10, 100, 2**20, "4GB", "2", "x86_64", "2026-11-25T00:00:00+00:00")
    result.steps = [Step("models", 2.0, 100.0, "3 models"), Step("floor", 1.0, 50.0)]
    result.ratios = {"models / ingest floor": 2.0}
    table = format_table(result)
    assert "models" in table and "floor" in table and "2.00" in table and "4GB" in table
