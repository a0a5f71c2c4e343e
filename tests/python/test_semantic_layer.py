"""The dbt Semantic Layer (MetricFlow, the optional extra `semantic`): `mf validate-configs` passes, and `mf query`
on the demo DuckDB build gives the same numbers as the KPI marts.

MetricFlow reads `<project>/target/semantic_manifest.json` and nothing else, so the test parses a copy of the
project (symlinks to its folders) in a temporary folder, never touching the project's own target/. MetricFlow
does not run on Spark (no Spark adapter); the semantic layer is checked on DuckDB (PostgreSQL would work too).
"""

from __future__ import annotations

import math
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from crm_kpi.paths import project_root

pytestmark = pytest.mark.slow
_LINKED = ("dbt_project.yml", "models", "macros", "seeds", "tests", "analyses", "profiles.yml")


def _mf() -> str:
    found = Path(sys.executable).parent / "mf"
    if not found.exists():
        pytest.skip("dbt-metricflow is not installed (pip install -e '.[semantic]')")
    return str(found)


@pytest.fixture(scope="module")
def semantic_project(demo_warehouse, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:  # type: ignore[no-untyped-def]
    _mf()
    folder = tmp_path_factory.mktemp("semantic_project")
    for name in _LINKED:
        (folder / name).symlink_to(project_root() / name)
    env = {
        **os.environ,
        "DBT_PROFILES_DIR": str(project_root()),
        "DBT_PROJECT_DIR": str(folder),
        "CRM_KPI_DUCKDB_PATH": str(demo_warehouse.db_path),
        "CRM_KPI_DUCKDB_TEMP_DIR": str(folder / "tmp"),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    dbt = str(Path(sys.executable).parent / "dbt")
    subprocess.run([dbt, "--quiet", "parse", "--project-dir", str(folder)], cwd=folder, env=env, check=True)
    assert (folder / "target" / "semantic_manifest.json").is_file()
    return folder, env


def mf_query(project: tuple[Path, dict[str, str]], metrics: str, group_by: str) -> pd.DataFrame:
    folder, env = project
    out = folder / f"query_{abs(hash((metrics, group_by)))}.csv"
    command = [_mf(), "query", "--metrics", metrics, "--group-by", group_by, "--order", group_by, "--csv", str(out)]
    done = subprocess.run(command, cwd=folder, env=env, capture_output=True, text=True, check=False)
    assert done.returncode == 0 and out.is_file(), done.stdout[-3000:] + done.stderr[-3000:]
    return pd.read_csv(out)


# Money, and ratios of money: a mart rounds the sum of its rows' converted amounts to the cent, the facts hold
# each amount rounded to the cent, so a sum over thousands may differ by a few cents (relative 1e-5). Counts,
# and rates of counts, must be equal to float precision.
MONEY = {
    "bookings", "average_deal_size", "spend", "cac", "cost_per_lead", "attributed_revenue", "open_value",
    "created_value", "starting_mrr", "ending_mrr", "net_new_mrr", "arpa", "gross_clv", "net_clv", "gross_profit",
}  # fmt: skip
MONEY_RATIOS = {"roi", "gross_revenue_churn_rate", "clv_to_cac", "gross_margin", "bookings_growth"}


def _close(left: object, right: object, column: str) -> bool:
    if left is None or right is None or pd.isna(left) or pd.isna(right):  # type: ignore[call-overload]
        return bool(pd.isna(left) and pd.isna(right))  # type: ignore[call-overload]
    if column in MONEY:
        rel_tol, abs_tol = 1e-5, 0.011
    elif column in MONEY_RATIOS:
        rel_tol, abs_tol = 1e-5, 1e-9
    else:
        rel_tol, abs_tol = 1e-9, 1e-9
    return math.isclose(float(left), float(right), rel_tol=rel_tol, abs_tol=abs_tol)  # type: ignore[arg-type]


def _compare(metrics: pd.DataFrame, mart: pd.DataFrame, keys: list[str], pairs: dict[str, str]) -> int:
    """Join on the keys; every metric column equals its mart column. Returns the rows compared."""
    joined = metrics.merge(mart, on=keys, how="inner", suffixes=("_mf", "_mart"))
    assert len(joined) == len(metrics), f"{len(metrics) - len(joined)} metric rows have no mart row"
    for metric, column in pairs.items():
        left = f"{metric}_mf" if metric in mart.columns and metric not in keys else metric
        right = f"{column}_mart" if column in metrics.columns and column not in keys else column
        same = [_close(a, b, column) for a, b in zip(joined[left], joined[right], strict=True)]
        differing = joined[[not equal for equal in same]]
        assert differing.empty, f"{metric} != {column}:\n{differing[[*keys, left, right]].head()}"
    return len(joined)


def test_validate_configs(semantic_project: tuple[Path, dict[str, str]]) -> None:
    """Semantic models, metrics and the time spine are valid, and valid against the built warehouse."""
    folder, env = semantic_project
    done = subprocess.run([_mf(), "validate-configs"], cwd=folder, env=env, capture_output=True, text=True, check=False)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-4000:]
    assert "ERRORS: 0" in output and "Breaking issues" not in output, output[-4000:]


def test_win_rate_and_bookings_by_rep_and_month_equal_the_mart(semantic_project, demo_warehouse) -> None:  # type: ignore[no-untyped-def]
    metrics = mf_query(
        semantic_project, "bookings,won_deals,lost_deals,win_rate,average_deal_size", "metric_time__month,rep"
    )
    metrics = metrics.rename(columns={"metric_time__month": "month", "rep": "user_id"})
    metrics["month"] = pd.to_datetime(metrics["month"]).dt.date
    mart = demo_warehouse.frame("kpi_revenue_per_rep")
    mart["month"] = pd.to_datetime(mart["month"]).dt.date
    mart = mart[(mart["won_deals"] + mart["lost_deals"]) > 0]
    pairs = {"bookings": "bookings", "won_deals": "won_deals", "lost_deals": "lost_deals", "win_rate": "win_rate"}
    metrics = metrics[(metrics["won_deals"] + metrics["lost_deals"]) > 0]
    assert _compare(metrics, mart, ["month", "user_id"], {**pairs, "average_deal_size": "average_deal_size"}) > 50


def test_bookings_by_quarter_equal_the_mart(semantic_project, demo_warehouse) -> None:  # type: ignore[no-untyped-def]
    metrics = mf_query(semantic_project, "bookings", "metric_time__quarter")
    metrics["period_start"] = pd.to_datetime(metrics["metric_time__quarter"]).dt.date
    mart = demo_warehouse.frame("kpi_revenue_by_period")
    mart = mart[mart["period_type"] == "quarter"].copy()
    mart["period_start"] = pd.to_datetime(mart["period_start"]).dt.date
    metrics = metrics[metrics["period_start"] <= demo_warehouse.as_of]
    assert _compare(metrics[["period_start", "bookings"]], mart, ["period_start"], {"bookings": "bookings"}) >= 8


def test_funnel_by_channel_and_month_equals_the_mart(semantic_project, demo_warehouse) -> None:  # type: ignore[no-untyped-def]
    metrics = mf_query(
        semantic_project,
        "leads,mqls,sqls,lead_opportunities,lead_customers,mql_rate,opportunity_rate,lead_to_customer_rate,leads_growth_rate",
        "metric_time__month,lead__channel",
    )
    metrics = metrics.rename(columns={"metric_time__month": "cohort_month", "lead__channel": "channel"})
    metrics["cohort_month"] = pd.to_datetime(metrics["cohort_month"]).dt.date
    mart = demo_warehouse.frame("kpi_funnel_conversion")
    mart["cohort_month"] = pd.to_datetime(mart["cohort_month"]).dt.date
    pairs = {
        "leads": "leads", "mqls": "mqls", "sqls": "sqls", "lead_opportunities": "opportunities",
        "lead_customers": "customers", "mql_rate": "mql_rate", "opportunity_rate": "opportunity_rate",
        "lead_to_customer_rate": "lead_to_customer_rate",
    }  # fmt: skip
    assert _compare(metrics, mart, ["cohort_month", "channel"], pairs) > 100
    # F5 growth, where the previous month had leads in the channel.
    growth = metrics[metrics["leads_growth_rate"].notna()]
    assert _compare(growth, mart, ["cohort_month", "channel"], {"leads_growth_rate": "leads_growth_rate"}) > 50


def test_cac_and_roi_per_campaign_and_month_equal_the_mart(semantic_project, demo_warehouse) -> None:  # type: ignore[no-untyped-def]
    metrics = mf_query(
        semantic_project, "spend,cac_spend,new_customers,cac,roi,cost_per_lead", "metric_time__month,campaign"
    )
    metrics = metrics.rename(columns={"campaign": "campaign_id", "metric_time__month": "month"})
    metrics["month"] = pd.to_datetime(metrics["month"]).dt.date
    mart = demo_warehouse.frame("kpi_campaign_cac_monthly")
    mart = mart[mart["attribution_rule"] == "first_touch"].copy()
    mart["month"] = pd.to_datetime(mart["month"]).dt.date
    keys = ["campaign_id", "month"]
    metrics = metrics.merge(mart[keys], on=keys)
    pairs = {"cac_spend": "spend", "new_customers": "new_customers", "cac": "cac", "roi": "roi"}
    assert _compare(metrics, mart, keys, {**pairs, "cost_per_lead": "cost_per_lead"}) >= 50
    # `spend` sums the daily facts, each rounded to the cent: within half a cent per spend row of the mart's.
    facts = demo_warehouse.frame("fct_campaign_spend")
    facts["month"] = pd.to_datetime(facts["spend_date"]).dt.to_period("M").dt.to_timestamp().dt.date
    rows = facts.groupby(keys).size()
    joined = metrics.merge(mart, on=keys, suffixes=("_mf", "_mart"))
    for key, from_facts, in_mart in zip(
        zip(joined["campaign_id"], joined["month"], strict=True), joined["spend_mf"], joined["spend_mart"], strict=True
    ):
        assert abs(float(from_facts) - float(in_mart)) <= 0.005 * rows.get(key, 0) + 1e-9, key


def test_cohort_retention_equals_the_mart(semantic_project, demo_warehouse) -> None:  # type: ignore[no-untyped-def]
    metrics = mf_query(
        semantic_project,
        "logo_retention,logo_churn,gross_revenue_retention,net_revenue_retention",
        "metric_time__month,cohort_period__months_since_start",
    )
    metrics = metrics.rename(
        columns={"metric_time__month": "cohort_month", "cohort_period__months_since_start": "months_since_start"}
    )
    metrics["cohort_month"] = pd.to_datetime(metrics["cohort_month"]).dt.date
    mart = demo_warehouse.frame("kpi_churn_by_cohort")
    mart["cohort_month"] = pd.to_datetime(mart["cohort_month"]).dt.date
    pairs = {
        name: name for name in ("logo_retention", "logo_churn", "gross_revenue_retention", "net_revenue_retention")
    }
    assert _compare(metrics, mart, ["cohort_month", "months_since_start"], pairs) > 50


def _month_rows(frame: pd.DataFrame, period_type: str = "month", **equal: str) -> pd.DataFrame:
    rows = frame[frame["period_type"] == period_type].copy()
    for column, value in equal.items():
        rows = rows[rows[column] == value]
    rows["period_start"] = pd.to_datetime(rows["period_start"]).dt.date
    return rows


def _by_period(metrics: pd.DataFrame, grain: str = "month") -> pd.DataFrame:
    metrics = metrics.rename(columns={f"metric_time__{grain}": "period_start"})
    metrics["period_start"] = pd.to_datetime(metrics["period_start"]).dt.date
    return metrics


def test_sales_metrics_equal_the_sales_marts(semantic_project, demo_warehouse) -> None:  # type: ignore[no-untyped-def]
    """F3 close ratio, F4, F10, S7 (median from the facts' percentile measure), S5, S2, S8 (snapshot by quarter)."""
    cycle = demo_warehouse.frame("kpi_win_rate_and_cycle")
    metrics = _by_period(
        mf_query(
            semantic_project,
            "close_ratio,win_loss_ratio,touches_per_won_deal,median_days_to_close,mean_days_to_close",
            "metric_time__month",
        )
    )
    metrics = metrics[metrics["period_start"] <= demo_warehouse.as_of]
    pairs = {name: name for name in ("close_ratio", "win_loss_ratio", "touches_per_won_deal")}
    pairs |= {"median_days_to_close": "median_days_to_close", "mean_days_to_close": "mean_days_to_close"}
    assert _compare(metrics, _month_rows(cycle, breakdown="company"), ["period_start"], pairs) >= 12
    # Per rep: the rep entity of the mart's rep rows.
    per_rep = _by_period(mf_query(semantic_project, "close_ratio,median_days_to_close", "metric_time__month,rep"))
    per_rep = per_rep.rename(columns={"rep": "breakdown_id"}).dropna(subset=["close_ratio"])
    rep_rows = _month_rows(cycle, breakdown="rep")
    pairs = {"close_ratio": "close_ratio", "median_days_to_close": "median_days_to_close"}
    assert _compare(per_rep, rep_rows, ["period_start", "breakdown_id"], pairs) > 50

    margin = _by_period(mf_query(semantic_project, "gross_margin,gross_profit,bookings_growth", "metric_time__month"))
    margin = margin[margin["period_start"] <= demo_warehouse.as_of]
    mart = _month_rows(demo_warehouse.frame("kpi_gross_margin"), breakdown="company")
    assert (
        _compare(margin, mart, ["period_start"], {"gross_margin": "gross_margin", "gross_profit": "gross_profit"}) >= 12
    )
    revenue = _month_rows(demo_warehouse.frame("kpi_revenue_by_period"))
    assert _compare(margin, revenue, ["period_start"], {"bookings_growth": "bookings_growth"}) >= 12

    # Pipeline at the quarter's end is the last month's snapshot, not a sum of month ends.
    pipeline = _by_period(
        mf_query(semantic_project, "open_pipeline,open_pipeline_deals,pipeline_created", "metric_time__quarter"),
        "quarter",
    )
    mart = _month_rows(demo_warehouse.frame("kpi_pipeline_by_period"), "quarter", breakdown="company")
    pairs = {"open_pipeline": "open_value", "open_pipeline_deals": "open_deals", "pipeline_created": "created_value"}
    assert _compare(pipeline[pipeline["period_start"] <= demo_warehouse.as_of], mart, ["period_start"], pairs) >= 4


def test_customer_metrics_equal_the_customer_marts(semantic_project, demo_warehouse) -> None:  # type: ignore[no-untyped-def]
    """C2, C3, C4 (the MRR bridge, snapshots by quarter), C5, C9, C6 per channel and cohort, C7."""
    movements = demo_warehouse.frame("kpi_mrr_movements")
    names = "starting_mrr,ending_mrr,net_new_mrr,logo_churn_rate,customer_retention_rate,gross_revenue_churn_rate"
    metrics = _by_period(mf_query(semantic_project, names, "metric_time__month"))
    pairs = {name: name for name in names.split(",")}
    assert _compare(metrics, _month_rows(movements, breakdown="total"), ["period_start"], pairs) >= 12
    quarters = _by_period(
        mf_query(semantic_project, "starting_mrr,ending_mrr,net_new_mrr", "metric_time__quarter"), "quarter"
    )
    pairs = {name: name for name in ("starting_mrr", "ending_mrr", "net_new_mrr")}
    assert _compare(quarters, _month_rows(movements, "quarter", breakdown="total"), ["period_start"], pairs) >= 4

    invoices = _by_period(mf_query(semantic_project, "arpa,refund_rate,refusal_rate", "metric_time__month"))
    mart = demo_warehouse.frame("kpi_recognised_revenue")
    mart = mart[mart["product_id"] == "all"].rename(columns={"month": "period_start"})
    mart["period_start"] = pd.to_datetime(mart["period_start"]).dt.date
    pairs = {"arpa": "arpa", "refund_rate": "refund_rate", "refusal_rate": "refusal_rate"}
    assert _compare(invoices, mart, ["period_start"], pairs) >= 12

    clv = mf_query(
        semantic_project, "gross_clv,net_clv,clv_to_cac", "metric_time__month,clv_cohort__acquisition_channel"
    )
    clv = _by_period(clv).rename(
        columns={"period_start": "cohort_month", "clv_cohort__acquisition_channel": "acquisition_channel"}
    )
    mart = demo_warehouse.frame("kpi_customer_lifetime_value")
    mart["cohort_month"] = pd.to_datetime(mart["cohort_month"]).dt.date
    pairs = {"gross_clv": "gross_clv", "net_clv": "net_clv", "clv_to_cac": "clv_to_cac"}
    assert _compare(clv, mart, ["cohort_month", "acquisition_channel"], pairs) >= 12

    surveys = _by_period(mf_query(semantic_project, "nps,csat", "metric_time__month"))
    mart = _month_rows(demo_warehouse.frame("kpi_customer_satisfaction"), breakdown="total")
    nps, csat = mart[mart["survey_type"] == "nps"], mart[mart["survey_type"] == "csat"]
    assert _compare(surveys[["period_start", "nps"]], nps, ["period_start"], {"nps": "nps"}) >= 12
    assert _compare(surveys[["period_start", "csat"]], csat, ["period_start"], {"csat": "csat"}) >= 12


def test_marketing_and_funnel_metrics_equal_their_marts(semantic_project, demo_warehouse) -> None:  # type: ignore[no-untyped-def]
    """M6 per campaign and month, M5 per cohort and channel, F7-F9 (all leads), F11's mean."""
    names = "sourced_pipeline_created,sourced_open_pipeline,sourced_open_pipeline_deals"
    sourced = _by_period(mf_query(semantic_project, names, "metric_time__month,campaign"))
    sourced = sourced.rename(columns={"campaign": "campaign_id"})
    mart = _month_rows(demo_warehouse.frame("kpi_marketing_sourced_pipeline"))
    pairs = {"sourced_pipeline_created": "created_value", "sourced_open_pipeline": "open_value"}
    pairs |= {"sourced_open_pipeline_deals": "open_opportunities"}
    assert _compare(sourced, mart, ["period_start", "campaign_id"], pairs) > 50

    rates = mf_query(semantic_project, "mql_to_customer_rate", "metric_time__month,lead__channel")
    rates = _by_period(rates).rename(columns={"period_start": "cohort_month", "lead__channel": "channel"})
    mart = demo_warehouse.frame("kpi_funnel_conversion")
    mart["cohort_month"] = pd.to_datetime(mart["cohort_month"]).dt.date
    assert _compare(rates, mart, ["cohort_month", "channel"], {"mql_to_customer_rate": "mql_to_customer_rate"}) > 50

    names = "follow_up_rate,positive_response_rate,meeting_booking_rate,response_leads_never_touched"
    response = _by_period(mf_query(semantic_project, names, "metric_time__month"))
    mart = _month_rows(demo_warehouse.frame("kpi_lead_response"), grouping_level="all")
    pairs = {name: name for name in names.split(",")[:3]} | {"response_leads_never_touched": "leads_never_touched"}
    assert _compare(response, mart, ["period_start"], pairs) >= 12

    first = mf_query(
        semantic_project,
        "mean_days_to_first_purchase,first_purchases",
        "metric_time__month,stage_entry_period__channel",
    )
    first = _by_period(first).rename(columns={"stage_entry_period__channel": "channel"})
    mart = _month_rows(demo_warehouse.frame("kpi_funnel_stage_entries"))
    pairs = {"mean_days_to_first_purchase": "mean_days_to_first_purchase", "first_purchases": "new_customers"}
    assert _compare(first, mart, ["period_start", "channel"], pairs) > 20


def test_readme_example_runs(semantic_project) -> None:  # type: ignore[no-untyped-def]
    """`mf query --metrics win_rate --group-by metric_time__quarter,rep__region` (the README's example)."""
    result = mf_query(semantic_project, "win_rate", "metric_time__quarter,rep__region")
    assert {"metric_time__quarter", "rep__region", "win_rate"} <= set(result.columns)
    assert result["win_rate"].dropna().between(0, 1).all() and len(result) >= 8


def test_mf_is_not_installed_without_the_extra() -> None:
    """The semantic layer is optional: the runtime lock does not pin dbt-metricflow, the dev lock does."""
    root = project_root()
    assert "dbt-metricflow" not in (root / "requirements.lock").read_text(encoding="utf-8")
    assert "dbt-metricflow==" in (root / "requirements-dev.lock").read_text(encoding="utf-8")
    assert shutil.which("mf") or (Path(sys.executable).parent / "mf").exists()
