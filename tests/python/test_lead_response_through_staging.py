"""Time zones through the whole warehouse: a tiny raw export whose timestamps carry UTC offsets is built by dbt
(staging parses the text and converts to UTC, int_leads_worked, kpi_lead_response), and the response time is
one hour. A dbt unit test cannot do this: it tests one model on rows already typed, while the conversion
happens in the base models (typed_raw_rows) and the response time three models later; the unit tests of
int_leads_worked and kpi_lead_response take the UTC values this test proves staging produces."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import pytest

import oracle
from compare import compare_frames, format_problems
from crm_kpi.dbt_invoke import run_dbt
from crm_kpi.settings import BuildSettings
from test_attribution_and_response_units import response_export
from test_oracle_units import write_raw

pytestmark = pytest.mark.slow

KEYS = ["period_type", "period_start", "grouping_level", "group_id"]


def test_a_lead_created_at_2330_at_plus_0330_and_called_an_hour_later_is_a_one_hour_response(tmp_path: Path) -> None:
    raw_dir = tmp_path / "raw"
    raw_dir.mkdir()
    write_raw(raw_dir, response_export())
    settings = BuildSettings(db_path=tmp_path / "w.duckdb", raw_path=raw_dir, artifacts_dir=tmp_path, quiet=True)
    build = ["build", "--select", "+kpi_lead_response", "--exclude", "resource_type:unit_test"]
    run_dbt(settings, [*build, "--indirect-selection", "cautious"])
    with duckdb.connect(str(settings.db_path), read_only=True) as connection:
        created = connection.execute(
            "select lead_id, created_at, first_response_at, response_days from intermediate.int_leads_worked"
            " order by lead_id"
        ).fetchall()
        mart = connection.execute("select * from marts.kpi_lead_response").df()
    # l1: raw 2025-03-01T23:30:00+03:30 -> 20:00 UTC; the call, raw 2025-03-01T22:00:00+01:00 -> 21:00 UTC.
    assert [str(value) for value in created[0][:3]] == ["l1", "2025-03-01 20:00:00", "2025-03-01 21:00:00"]
    assert created[0][3] == pytest.approx(1 / 24)
    # l3: raw 2025-03-01T01:30:00+03:30 is 2025-02-28 22:00 UTC, a February lead, called an hour later.
    assert [str(value) for value in created[2][:3]] == ["l3", "2025-02-28 22:00:00", "2025-02-28 23:00:00"]
    months = (
        mart[(mart["period_type"] == "month") & (mart["grouping_level"] == "all")]
        .set_index("period_start")
        .sort_index()
    )
    assert months["leads"].tolist() == [1, 2]
    assert months["median_response_days"].tolist() == pytest.approx([1 / 24, 1 / 24])
    assert months["p90_response_days"].tolist() == pytest.approx([1 / 24, 1 / 24])
    assert months["leads_never_touched"].tolist() == [0, 1]
    # The mart equals the oracle computed from the same files.
    expected = oracle.funnel.lead_response(oracle.load_raw(raw_dir), date(2025, 3, 2))
    problems = compare_frames("kpi_lead_response", expected, mart, KEYS)
    assert not problems, format_problems(problems)
