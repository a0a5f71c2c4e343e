"""The dbt Semantic Layer (MetricFlow, the optional extra `semantic`): `mf validate-configs` passes, and `mf query`
on the demo DuckDB build gives the same numbers as the KPI marts: the mf leg of "every reader gives the same
number". Every metric that answers a KPI mart column is queried at every grain its mart holds that MetricFlow can
express (month, quarter; by rep, team, manager, campaign, channel, ... where the mart has those rows; per attribution
rule through the rule's metrics) and compared with the mart's rows (money to the cent, counts exact, ratios to 1e-9
relative); the metrics that answer no mart column are listed with the reason (NOT_COMPARED).

MetricFlow reads `<project>/target/semantic_manifest.json` and nothing else, so the test parses a copy of the
project (symlinks to its folders) in a temporary folder, never touching the project's own target/. MetricFlow
does not run on Spark (no Spark adapter); the semantic layer is checked on DuckDB (PostgreSQL would work too).
"""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from crm_kpi import manifest, semantic
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


# --------------------------------------------------------------------------------------------------
# The mf leg of "every reader gives the same number": every metric that answers a KPI mart column,
# at every grain its mart holds that MetricFlow can express, equals the mart's rows.
# --------------------------------------------------------------------------------------------------

MONEY, COUNT, RATIO, MONEY_RATIO = "money", "count", "ratio", "money ratio"
MONEY_TOLERANCE = 0.01  # to the cent: the marts round each row's money to 2 decimals
RATIO_TOLERANCE = 1e-9  # relative
_SLACK = 1e-9  # binary floating-point noise around the money tolerance


@dataclass(frozen=True)
class Col:
    """The mart column (or an expression of the mart's columns) a metric answers, and how to compare it."""

    column: str | Callable[[pd.DataFrame], pd.Series]
    kind: str
    # A ratio of money: the mart column of its denominator. MetricFlow sums rows of money rounded to the cent
    # where the mart rounds their sum (a quarter of months, the deals of a month), so the numerator and the
    # denominator may each be a cent off: the tolerance is that cent propagated, 0.01 x (1 + |ratio|) / |denominator|.
    denominator: str | None = None
    periods: tuple[str, ...] | None = None  # only at these periods (default: every period of the family)


def money(column: str | Callable[[pd.DataFrame], pd.Series], periods: tuple[str, ...] | None = None) -> Col:
    return Col(column, MONEY, periods=periods)


def count(column: str | Callable[[pd.DataFrame], pd.Series], periods: tuple[str, ...] | None = None) -> Col:
    return Col(column, COUNT, periods=periods)


def ratio(column: str | Callable[[pd.DataFrame], pd.Series], periods: tuple[str, ...] | None = None) -> Col:
    return Col(column, RATIO, periods=periods)


def money_ratio(column: str, denominator: str, periods: tuple[str, ...] | None = None) -> Col:
    return Col(column, MONEY_RATIO, denominator=denominator, periods=periods)


@dataclass(frozen=True)
class Slice:
    """A grain's non-time part: MetricFlow's group-by names and the mart columns they equal, and the mart's rows
    of that grain (a pandas query)."""

    group_by: tuple[tuple[str, str], ...]
    where: str


@dataclass(frozen=True)
class Family:
    """Metrics answering one mart's rows, compared at each period x slice of the mart."""

    mart: str
    time: str | None  # the mart's period column (None: a mart without periods, grouped by the slice alone)
    periods: tuple[str, ...]  # metric_time grains; with period_type, the mart's period_type values
    slices: tuple[Slice, ...]
    metrics: dict[str, Col]
    period_type: bool = True  # the mart has a period_type column (month and quarter rows)
    where: str = ""  # the family's rows (besides the slice's)
    # MetricFlow rows outside the mart's keys are not compared (metrics on facts cover users the mart leaves out).
    mart_keys_only: bool = False


ALL = Slice((), "")
REP = Slice((("rep", "breakdown_id"),), "breakdown == 'rep'")
COMPANY = Slice((), "breakdown == 'company'")
MONTH, QUARTER, BOTH = ("month",), ("quarter",), ("month", "quarter")


def _rows(name: str, column: str, kind: str, periods: tuple[str, ...] = BOTH) -> dict[str, Col]:
    """A row-of-the-period metric (`name`) and its building blocks: the month rows (comparable by month; by quarter
    they add the months) and the quarter rows (comparable by quarter; by month a quarter row sits at its first)."""
    return {
        name: Col(column, kind, periods=periods),
        f"{name}_month_rows": Col(column, kind, periods=MONTH),
        f"{name}_quarter_rows": Col(column, kind, periods=QUARTER),
    }


def _price_total(frame: pd.DataFrame) -> pd.Series:
    return (frame["competitor_average_price"] * frame["competitor_observations"]).fillna(0.0)


def _days_to_first_purchase(frame: pd.DataFrame) -> pd.Series:
    return (frame["mean_days_to_first_purchase"] * frame["new_customers"]).fillna(0.0)


def _zero_when_null(column: str) -> Callable[[pd.DataFrame], pd.Series]:
    """eNPS counts: the mart nulls the counts of a suppressed team, the metrics count it as no respondent."""
    return lambda frame: frame[column].fillna(0)


def _cac_rule(rule: str) -> dict[str, Col]:
    return {
        f"new_customers_{rule}": ratio("new_customers"),
        f"attributed_revenue_{rule}": money("attributed_revenue"),
        f"cac_{rule}": money_ratio("cac", "new_customers"),
        f"roi_{rule}": money_ratio("roi", "spend"),
    }


_CAC_FIRST_TOUCH = {
    "spend": money("spend"),
    "campaign_overhead": money("overhead"),
    "attributed_leads_count": count("leads"),
    "attributed_mqls_count": count("mqls"),
    "cost_per_lead": money_ratio("cost_per_lead", "leads"),
    "cost_per_mql": money_ratio("cost_per_mql", "mqls"),
    "new_customers": ratio("new_customers"),
    "attributed_revenue": money("attributed_revenue"),
    "cac": money_ratio("cac", "new_customers"),
    "roi": money_ratio("roi", "spend"),
}
_CAMPAIGN = (("campaign", "campaign_id"),)
_TEAM_ROWS = {
    "quota": money("quota"),
    "quota_bookings": money("bookings"),
    "quota_attainment": money_ratio("quota_attainment", "quota"),
}
_SURVEY_TOTAL = "breakdown == 'total'"

FAMILIES: tuple[Family, ...] = (
    # C2, C3, C4: the MRR bridge (its total rows) and the subscription months' snapshots.
    Family(
        "kpi_mrr_movements",
        "period_start",
        BOTH,
        (ALL,),
        where="breakdown == 'total'",
        metrics={
            "starting_mrr": money("starting_mrr"),
            "ending_mrr": money("ending_mrr"),
            "net_new_mrr": money("net_new_mrr"),
            "customers_at_start": count("customers_at_start"),
            "customers_at_end": count("customers_at_end"),
            **_rows("acquired_customers", "new_customers", COUNT),
            **_rows("reactivated_customers", "reactivated_customers", COUNT),
            **_rows("churned_customers", "churned_customers", COUNT),
            **_rows("new_mrr", "new_mrr", MONEY),
            **_rows("expansion_mrr", "expansion_mrr", MONEY),
            **_rows("contraction_mrr", "contraction_mrr", MONEY),
            **_rows("churned_mrr", "churned_mrr", MONEY),
            **_rows("reactivated_mrr", "reactivated_mrr", MONEY),
            "logo_churn_rate": ratio("logo_churn_rate"),
            "customer_retention_rate": ratio("customer_retention_rate"),
            "gross_revenue_churn_rate": money_ratio("gross_revenue_churn_rate", "starting_mrr"),
            "net_revenue_churn_rate": money_ratio("net_revenue_churn_rate", "starting_mrr"),
            "mrr": money("ending_mrr"),
            "active_accounts": count("customers_at_end"),
        },
    ),
    # C5, C9: recognised revenue, refunds and refusals (month rows, all products).
    Family(
        "kpi_recognised_revenue",
        "month",
        MONTH,
        (ALL,),
        period_type=False,
        where="product_id == 'all'",
        metrics={
            "invoices": count("invoices"),
            "refused_invoices": count("refused_invoices"),
            "paid_revenue": money("paid_revenue"),
            "refunded_amount": money("refunded_amount"),
            "invoiced_recognised_revenue": money("recognised_revenue"),
            "arpa_active_accounts": count("active_accounts"),
            "arpa": money_ratio("arpa", "active_accounts"),
            "refund_rate": money_ratio("refund_rate", "paid_revenue"),
            "refusal_rate": ratio("refusal_rate"),
        },
    ),
    # C6: CLV per acquisition channel and cohort month, and the all rows (the channels add up to them).
    Family(
        "kpi_customer_lifetime_value",
        "cohort_month",
        MONTH,
        (
            Slice((), "acquisition_channel == 'all'"),
            Slice((("clv_cohort__acquisition_channel", "acquisition_channel"),), "acquisition_channel != 'all'"),
        ),
        period_type=False,
        metrics={
            "clv_cohort_customers": count("cohort_customers"),
            "clv_new_customers": count("new_customers"),
            "clv_spend": money("spend"),
            "clv_active_account_months": count("active_account_months"),
            "clv_recognised_revenue": money("recognised_revenue"),
            "clv_gross_profit": money("gross_profit"),
            "clv_customer_months_at_start": count("customer_months_at_start"),
            "clv_churned_customers": count("churned_customers"),
            "clv_arpa": money_ratio("arpa", "active_account_months"),
            "clv_gross_margin": money_ratio("gross_margin", "recognised_revenue"),
            "clv_monthly_churn_rate": ratio("monthly_churn_rate"),
            "clv_cac": money_ratio("cac", "new_customers"),
            "gross_clv": money_ratio("gross_clv", "active_account_months"),
            "net_clv": money_ratio("net_clv", "active_account_months"),
            "clv_to_cac": money_ratio("clv_to_cac", "spend"),
        },
    ),
    # C7: NPS and CSAT, the total rows of each survey type: by month the month row, by quarter the quarter row.
    Family(
        "kpi_customer_satisfaction",
        "period_start",
        BOTH,
        (ALL,),
        where=f"{_SURVEY_TOTAL} and survey_type == 'nps'",
        metrics={
            **_rows("nps_respondents", "respondents", COUNT),
            **_rows("nps_promoters", "promoters", COUNT),
            **_rows("nps_detractors", "detractors", COUNT),
            "nps": ratio("nps"),
        },
    ),
    Family(
        "kpi_customer_satisfaction",
        "period_start",
        BOTH,
        (ALL,),
        where=f"{_SURVEY_TOTAL} and survey_type == 'csat'",
        metrics={
            **_rows("csat_respondents", "respondents", COUNT),
            **_rows("csat_score_total", "score_total", COUNT),
            "csat": ratio("csat"),
        },
    ),
    # C8: engagement per quarter, per tenure band and all bands.
    Family(
        "kpi_account_engagement",
        "quarter_start",
        QUARTER,
        (
            Slice((), "tenure_band == 'all'"),
            Slice((("engagement_period__tenure_band", "tenure_band"),), "tenure_band != 'all'"),
        ),
        period_type=False,
        metrics={
            "engaged_active_accounts": count("active_accounts"),
            "touched_accounts": count("touched_accounts"),
            "account_touches": count("touches"),
            "touches_per_account": ratio("touches_per_account"),
            "touched_account_rate": ratio("touched_account_rate"),
        },
    ),
    # T1: eNPS per team and quarter (a suppressed team: null score, no respondent counted).
    Family(
        "kpi_employee_nps",
        "quarter_start",
        QUARTER,
        (Slice((("team_quarter__enps_team", "team_id"),), ""),),
        period_type=False,
        metrics={
            "enps_respondents": count(
                lambda frame: frame["respondents"].where(~frame["is_suppressed"].astype(bool), 0)
            ),
            "enps_promoters": count(_zero_when_null("promoters")),
            "enps_detractors": count(_zero_when_null("detractors")),
            "enps": ratio("enps"),
        },
    ),
    # F3, F4, F10, S6, S7: who is winning and how fast, the company rows and the rep rows.
    Family(
        "kpi_win_rate_and_cycle",
        "period_start",
        BOTH,
        (COMPANY, REP),
        metrics={
            **_rows("worked_deals", "worked_deals", COUNT),
            "period_won_deals": count("won_deals"),
            "close_ratio": ratio("close_ratio"),
            "won_deal_touches": count("touches"),
            "touches_per_won_deal": ratio("touches_per_won_deal"),
            **{f"won_deal_{kind}": count(kind) for kind in ("calls", "emails", "meetings", "demos", "proposals")},
            **{
                f"{kind}_per_won_deal": ratio(f"{kind}_per_won_deal")
                for kind in ("calls", "emails", "meetings", "demos", "proposals")
            },
            "won_deals": count("won_deals"),
            "lost_deals": count("lost_deals"),
            "closed_deals": count("closed_deals"),
            "bookings": money("bookings"),
            "win_rate": ratio("win_rate"),
            "win_loss_ratio": ratio("win_loss_ratio"),
            "average_deal_size": money_ratio("average_deal_size", "won_deals"),
            "median_days_to_close": ratio("median_days_to_close"),
            "mean_days_to_close": ratio("mean_days_to_close"),
        },
    ),
    # S1, S3, S4, S6, F3: per rep and month.
    Family(
        "kpi_revenue_per_rep",
        "month",
        MONTH,
        (Slice((("rep", "user_id"),), ""),),
        period_type=False,
        metrics={
            "bookings": money("bookings"),
            "won_deals": count("won_deals"),
            "lost_deals": count("lost_deals"),
            "lost_amount": money("lost_amount"),
            "average_deal_size": money_ratio("average_deal_size", "won_deals"),
            "win_rate": ratio("win_rate"),
            "amount_win_rate": money_ratio("amount_win_rate", "bookings"),
            "rep_quota": money("quota"),
            "rep_quota_bookings": money("bookings"),
            "rep_quota_attainment": money_ratio("quota_attainment", "quota"),
        },
    ),
    # S1, S2: bookings and recognised revenue per month and quarter, and their growth.
    Family(
        "kpi_revenue_by_period",
        "period_start",
        BOTH,
        (ALL,),
        metrics={
            "bookings": money("bookings"),
            "won_deals": count("won_deals"),
            "recognised_revenue": money("recognised_revenue"),
            "bookings_growth": money_ratio("bookings_growth", "previous_period_bookings", periods=MONTH),
            "bookings_growth_qoq": money_ratio("bookings_growth", "previous_period_bookings", periods=QUARTER),
            "bookings_growth_yoy": money_ratio("bookings_growth_yoy", "year_ago_bookings"),
            "recognised_revenue_growth": money_ratio(
                "recognised_revenue_growth", "previous_period_recognised_revenue", periods=MONTH
            ),
            "recognised_revenue_growth_yoy": money_ratio(
                "recognised_revenue_growth_yoy", "year_ago_recognised_revenue"
            ),
        },
    ),
    # S4: quota attainment, the company's (the teams'), a team's, a manager's (their teams'), a rep's.
    Family("kpi_quota_attainment", "period_start", BOTH, (COMPANY,), metrics=_TEAM_ROWS),
    Family(
        "kpi_quota_attainment",
        "period_start",
        BOTH,
        (Slice((("team", "breakdown_id"),), "breakdown == 'team'"),),
        metrics=_TEAM_ROWS,
    ),
    Family(
        "kpi_quota_attainment",
        "period_start",
        BOTH,
        (Slice((("team__manager_user_id", "breakdown_id"),), "breakdown == 'manager'"),),
        metrics=_TEAM_ROWS,
    ),
    Family(
        "kpi_quota_attainment",
        "period_start",
        BOTH,
        (REP,),
        metrics={
            "rep_quota": money("quota"),
            "rep_quota_bookings": money("bookings"),
            "rep_quota_attainment": money_ratio("quota_attainment", "quota"),
        },
    ),
    # S5: gross margin, the company and the rep rows.
    Family(
        "kpi_gross_margin",
        "period_start",
        BOTH,
        (COMPANY, REP),
        metrics={
            "line_item_revenue": money("revenue"),
            "cost_of_goods": money("cost_of_goods"),
            "gross_profit": money("gross_profit"),
            "gross_margin": money_ratio("gross_margin", "revenue"),
        },
    ),
    # S10: upsell and cross-sell, the company and the rep rows.
    Family(
        "kpi_upsell_cross_sell",
        "period_start",
        BOTH,
        (COMPANY, REP),
        metrics={
            **_rows("existing_customers", "existing_customers", COUNT),
            "upsell_customers": count("upsell_customers"),
            "cross_sell_customers": count("cross_sell_customers"),
            "upsell_rate": ratio("upsell_rate"),
            "cross_sell_rate": ratio("cross_sell_rate"),
        },
    ),
    # S11: rep activity per user (the mart's users; the activities' facts have other users too).
    Family(
        "kpi_rep_activity",
        "period_start",
        BOTH,
        (Slice((("rep", "user_id"),), ""),),
        mart_keys_only=True,
        metrics={
            **{f"rep_{kind}": count(kind) for kind in ("calls", "emails", "meetings", "demos", "proposals")},
            "rep_opportunities_sourced": count("opportunities_sourced"),
            "rep_opportunities_created": count("opportunities_created"),
            "rep_deals_won": count("deals_won"),
            "activities": count("activities"),
        },
    ),
    # S9: bookings and units by region and country.
    Family(
        "kpi_bookings_by_location",
        "period_start",
        BOTH,
        (Slice((("location_period__region", "region"), ("location_period__country", "country")), ""),),
        metrics={"location_bookings": money("bookings"), "units_sold": count("units")},
    ),
    # S12: the competitor price index per product.
    Family(
        "kpi_competitor_price_index",
        "period_start",
        BOTH,
        (Slice((("price_period__product_id", "product_id"),), ""),),
        metrics={
            "price_units_sold": count("units_sold"),
            "price_revenue": money("revenue"),
            "competitor_observations": count("competitor_observations"),
            "competitor_price_total": money(_price_total),
            "our_average_selling_price": money_ratio("our_average_selling_price", "units_sold"),
            "competitor_average_price": money_ratio("competitor_average_price", "competitor_observations"),
            "price_index": money_ratio("price_index", "units_sold"),
        },
    ),
    # S8: the pipeline (snapshots at the period's end, created in it), the company and the rep rows; the waterfall.
    Family(
        "kpi_pipeline_by_period",
        "period_start",
        BOTH,
        (COMPANY, REP),
        metrics={
            "open_pipeline_deals": count("open_deals"),
            "open_pipeline": money("open_value"),
            "weighted_pipeline": money("weighted_open_value"),
            "pipeline_created_deals": count("created_deals"),
            "pipeline_created": money("created_value"),
        },
    ),
    Family(
        "kpi_pipeline_waterfall",
        "period_start",
        BOTH,
        (ALL,),
        metrics={
            "open_pipeline_at_start": money("open_value_at_start"),
            "pipeline_amount_increases": money("amount_increases"),
            "pipeline_amount_decreases": money("amount_decreases"),
            "pipeline_won_value": money("won_value"),
            "pipeline_lost_value": money("lost_value"),
            "pipeline_reopened_value": money("reopened_value"),
        },
    ),
    # F6-F9: lead response, all leads and per lead owner.
    Family(
        "kpi_lead_response",
        "period_start",
        BOTH,
        (Slice((), "grouping_level == 'all'"), Slice((("rep", "group_id"),), "grouping_level == 'rep'")),
        metrics={
            **{
                f"response_{name}": count(name)
                for name in (
                    "leads",
                    "leads_responded",
                    "leads_never_touched",
                    "mqls",
                    "mqls_responded",
                    "mqls_never_touched",
                    "mqls_followed_up",
                    "prospects_contacted",
                    "prospects_responded",
                    "prospects_positive",
                    "prospects_meeting_booked",
                )
            },
            "follow_up_rate": ratio("follow_up_rate"),
            "positive_response_rate": ratio("positive_response_rate"),
            "meeting_booking_rate": ratio("meeting_booking_rate"),
        },
    ),
    # F11: time to first purchase per channel.
    Family(
        "kpi_funnel_stage_entries",
        "period_start",
        BOTH,
        (Slice((("stage_entry_period__channel", "channel"),), ""),),
        metrics={
            "first_purchases": count("new_customers"),
            "days_to_first_purchase_total": ratio(_days_to_first_purchase),
            "mean_days_to_first_purchase": ratio("mean_days_to_first_purchase"),
        },
    ),
    # F1, F2, F5, M5: the lifecycle funnel per cohort month and channel.
    Family(
        "kpi_funnel_conversion",
        "cohort_month",
        MONTH,
        (Slice((("lead__channel", "channel"),), ""),),
        period_type=False,
        metrics={
            "leads": count("leads"),
            "mqls": count("mqls"),
            "sqls": count("sqls"),
            "lead_opportunities": count("opportunities"),
            "lead_customers": count("customers"),
            "mql_rate": ratio("mql_rate"),
            "sql_rate": ratio("sql_rate"),
            "opportunity_rate": ratio("opportunity_rate"),
            "lead_win_rate": ratio("win_rate"),
            "lead_to_customer_rate": ratio("lead_to_customer_rate"),
            "mql_to_customer_rate": ratio("mql_to_customer_rate"),
            "leads_growth_rate": ratio("leads_growth_rate"),
        },
    ),
    # C1: churn by cohort and months since the start.
    Family(
        "kpi_churn_by_cohort",
        "cohort_month",
        MONTH,
        (Slice((("cohort_period__months_since_start", "months_since_start"),), ""),),
        period_type=False,
        metrics={
            "cohort_size": count("cohort_size"),
            "cohort_active_customers_count": count("active_customers"),
            "cohort_churned_customers_count": count("churned_customers"),
            "logo_retention": ratio("logo_retention"),
            "logo_churn": ratio("logo_churn"),
            "cohort_starting_mrr_total": money("starting_mrr"),
            "cohort_mrr_total": money("mrr"),
            "cohort_retained_mrr_total": money("retained_mrr"),
            "gross_revenue_retention": money_ratio("gross_revenue_retention", "starting_mrr"),
            "net_revenue_retention": money_ratio("net_revenue_retention", "starting_mrr"),
        },
    ),
    # M6: marketing-sourced pipeline per campaign.
    Family(
        "kpi_marketing_sourced_pipeline",
        "period_start",
        BOTH,
        (Slice(_CAMPAIGN, ""),),
        metrics={
            "sourced_pipeline_created_deals": count("created_opportunities"),
            "sourced_pipeline_created": money("created_value"),
            "sourced_open_pipeline_deals": count("open_opportunities"),
            "sourced_open_pipeline": money("open_value"),
            "sourced_weighted_pipeline": money("weighted_open_value"),
        },
    ),
    # M1-M3: CAC per campaign and month, and per campaign (all time), under each attribution rule.
    Family(
        "kpi_campaign_cac_monthly",
        "month",
        MONTH,
        (Slice(_CAMPAIGN, ""),),
        period_type=False,
        where="attribution_rule == 'first_touch'",
        metrics=_CAC_FIRST_TOUCH,
    ),
    *(
        Family(
            "kpi_campaign_cac_monthly",
            "month",
            MONTH,
            (Slice(_CAMPAIGN, ""),),
            period_type=False,
            where=f"attribution_rule == '{rule}'",
            metrics=_cac_rule(rule),
        )
        for rule in ("last_touch", "linear", "position_based")
    ),
    Family(
        "kpi_campaign_cac",
        None,
        (),
        (Slice(_CAMPAIGN, ""),),
        period_type=False,
        where="attribution_rule == 'first_touch'",
        metrics=_CAC_FIRST_TOUCH,
    ),
    *(
        Family(
            "kpi_campaign_cac",
            None,
            (),
            (Slice(_CAMPAIGN, ""),),
            period_type=False,
            where=f"attribution_rule == '{rule}'",
            metrics=_cac_rule(rule),
        )
        for rule in ("last_touch", "linear", "position_based")
    ),
)

# Money where the mart rounds a sum whose parts MetricFlow sums already rounded to the cent (the facts round each
# deal's amount, each account's MRR; a mart's rep rows are rounded each): a second definition of the same number,
# apart by up to half a cent per part. Spend was one (fixed: a spend row is rounded once, every total sums those);
# these are left as they are, allowed half a cent per part (the mart column that counts the parts), no more.
ROUNDED_SUMS = {
    **{
        (metric, mart): ("won_deals", "fct_opportunities rounds each deal's amount; the mart rounds the sum")
        for metric in ("bookings", "bookings_growth", "bookings_growth_qoq", "bookings_growth_yoy", "average_deal_size")
        for mart in ("kpi_revenue_by_period", "kpi_win_rate_and_cycle")
    },
    ("quota_bookings", "kpi_quota_attainment"): (
        "won_deals",
        "the team rows are rounded each; the company row rounds the sum",
    ),
    ("quota_attainment", "kpi_quota_attainment"): (
        "won_deals",
        "the team rows are rounded each; the company row rounds the sum",
    ),
    ("mrr", "kpi_mrr_movements"): (
        "customers_at_end",
        "fct_subscription_months rounds each account's MRR; the bridge rounds the sum",
    ),
    ("open_pipeline", "kpi_pipeline_by_period"): (
        "open_deals",
        "the rep rows are rounded each; the company row rounds the sum",
    ),
    ("weighted_pipeline", "kpi_pipeline_by_period"): (
        "open_deals",
        "the rep rows are rounded each; the company row rounds the sum",
    ),
}

# Metrics that answer no KPI mart column, with the reason; every other metric is in FAMILIES.
NOT_COMPARED = {
    **{
        counter: "counts the mart's rows of one kind in the period grouped (how a row-of-the-period metric tells a "
        "month's row from a quarter's): no KPI column"
        for counter in (
            "bridge_months",
            "bridge_quarters",
            "survey_months",
            "survey_quarters",
            "deal_months",
            "deal_quarters",
            "upsell_months",
            "upsell_quarters",
        )
    },
    "bookings_to_date": "a cumulative sum from the start of each year (grain to date): no mart holds year-to-date "
    "bookings",
}

# Grains a mart holds that MetricFlow cannot express, or cells left out on purpose (documentation).
NOT_EXPRESSIBLE = (
    "week rows (kpi_pipeline_by_period, kpi_pipeline_waterfall, kpi_lead_response, kpi_rep_activity): the semantic "
    "models read the marts at their month grain, and a month-grain time dimension cannot be grouped by week",
    "the team, manager, region, stage, competitor and product breakdowns of kpi_win_rate_and_cycle, "
    "kpi_pipeline_by_period, kpi_gross_margin, kpi_lead_response (team), kpi_mrr_movements and "
    "kpi_customer_satisfaction: not offered (the rows a metric reads are its measures'; the team at the deal's close "
    "is not rep__team, the current one)",
    "kpi_recognised_revenue's product rows: not offered (an account active in two products is in both rows)",
    "a _month_rows metric by quarter (it adds the months) and a _quarter_rows metric by month (a quarter row sits at "
    "its first month): building blocks of the row-of-the-period metric, compared at their own period only",
)


def _generated_col(mart: manifest.Mart, terms: tuple[str, ...]) -> Col:
    """How a generated metric compares with the mart: a column as its kind (a ratio of money with its denominator's
    money tolerance), a sum of terms as money when every column it reads is money."""
    column = mart.column(terms[0]) if len(terms) == 1 else None
    if column is None:
        reads = [mart.column(name) for term in terms for name in manifest.term_columns(term)]
        kind = MONEY if all(found is not None and found.is_money for found in reads) else RATIO
        return Col(lambda frame: sum(frame.eval(term) for term in terms), kind)
    if column.ratio is not None:
        numerators = [mart.column(name) for term in column.ratio.numerator for name in manifest.term_columns(term)]
        denominator = column.ratio.denominator
        if all(found is not None and found.is_money for found in numerators) and manifest.is_identifier(
            " ".join(denominator)
        ):
            return money_ratio(column.name, denominator[0])
        return ratio(column.name)
    if column.is_money:
        return money(column.name)
    return count(column.name) if column.measure == "count" else ratio(column.name)


def generated_families(marts: Sequence[manifest.Mart]) -> tuple[Family, ...]:
    """The metrics crm_kpi.semantic generates from the marts' declarations, each set of rows (the company rows, the
    rows of each member kind) against the mart's same rows, at the mart's period."""
    found = []
    for mart in semantic.generated_marts(marts, project_root()):
        for rows in semantic.row_sets(mart):
            where = " and ".join(f"{column} == {value!r}" for column, value in sorted(rows.values.items()))
            group_by = (rows.entity,) if rows.entity else ()
            metrics = {
                name: _generated_col(mart, terms)
                for name, terms in semantic.metric_columns(mart, rows).items()
                if terms
            }
            periods = (semantic.granularity(mart),)
            found.append(Family(mart.name, mart.reading.date, periods, (Slice(group_by, where),), metrics, False))
    return tuple(found)


def generated_not_compared(marts: Sequence[manifest.Mart]) -> dict[str, str]:
    """The generated counters (how a row-of-the-period metric knows the span queried holds one period): no column."""
    return {
        name: "counts the periods (or rows) in the span queried, the guard of a generated row-of-the-period metric"
        for mart in semantic.generated_marts(marts, project_root())
        for rows in semantic.row_sets(mart)
        for name, terms in semantic.metric_columns(mart, rows).items()
        if not terms
    }


@dataclass(frozen=True)
class Cell:
    """One metric at one grain of one mart's rows."""

    family: Family
    period: str | None
    slice: Slice

    @property
    def group_by(self) -> tuple[str, ...]:
        time = (f"metric_time__{self.period}",) if self.period else ()
        return time + tuple(name for name, _ in self.slice.group_by)

    def metrics(self) -> dict[str, Col]:
        return {
            name: col
            for name, col in self.family.metrics.items()
            if self.period is None or col.periods is None or self.period in col.periods
        }

    def label(self, metric: str) -> str:
        grain = " x ".join(filter(None, [self.period or "", *(name for name, _ in self.slice.group_by)]))
        rows = " and ".join(filter(None, [self.family.where, self.slice.where]))
        return f"{metric} by {grain or 'nothing'} vs {self.family.mart}" + (f" ({rows})" if rows else "")


def matrix_cells(families: Sequence[Family]) -> list[Cell]:
    return [
        Cell(family, period, piece)
        for family in families
        for period in (family.periods or (None,))
        for piece in family.slices
    ]


def matrix_size(families: Sequence[Family]) -> int:
    """Metrics x grains compared (a metric at a grain of one mart's rows is one cell)."""
    return sum(len(cell.metrics()) for cell in matrix_cells(families))


# Runs `mf query` (the CLI command, its options and its CSV writer) once per argument list in one process: the
# command's set-up (the dbt project, the semantic manifest, the adapter) is done once, not once per query.
_MF_QUERIES = """
import json, sys
from dbt_metricflow.cli.cli_configuration import CLIConfiguration
from dbt_metricflow.cli.main import cli

configuration = CLIConfiguration()
for arguments in json.load(sys.stdin):
    cli.main(arguments, prog_name="mf", standalone_mode=False, obj=configuration)
"""


def mf_frames(
    project: tuple[Path, dict[str, str]], queries: list[tuple[list[str], tuple[str, ...]]]
) -> list[pd.DataFrame]:
    """`mf query --metrics ... --group-by ... --csv ...` for each (metrics, group-by), in one process."""
    folder, env = project
    outs = [folder / f"query_{number}_{abs(hash((tuple(m), g)))}.csv" for number, (m, g) in enumerate(queries)]
    arguments = [
        ["query", "--quiet", "--metrics", ",".join(metrics), "--csv", str(out)]
        + (["--group-by", ",".join(group_by)] if group_by else [])
        for (metrics, group_by), out in zip(queries, outs, strict=True)
    ]
    done = subprocess.run(
        [sys.executable, "-c", _MF_QUERIES],
        input=json.dumps(arguments),
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    missing = [out.name for out in outs if not out.is_file()]
    assert not missing, f"no result: {missing}\n" + done.stdout[-3000:] + done.stderr[-3000:]
    return [pd.read_csv(out) for out in outs]


def mf_frame(project: tuple[Path, dict[str, str]], metrics: list[str], group_by: tuple[str, ...]) -> pd.DataFrame:
    """One `mf query` call, the command line as a user types it."""
    folder, env = project
    out = folder / f"query_{abs(hash((tuple(metrics), group_by)))}.csv"
    command = [_mf(), "query", "--metrics", ",".join(metrics), "--csv", str(out)]
    if group_by:
        command += ["--group-by", ",".join(group_by)]
    done = subprocess.run(command, cwd=folder, env=env, capture_output=True, text=True, check=False)
    assert done.returncode == 0 and out.is_file(), done.stdout[-3000:] + done.stderr[-3000:]
    return pd.read_csv(out)


def _key(value: object) -> object:
    """A join key comparable between MetricFlow's CSV and the mart: dates as ISO dates, the rest as text."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, pd.Timestamp | date):
        return pd.Timestamp(value).date().isoformat()
    text = str(value)
    if len(text) >= 10 and text[4] == "-" and text[7] == "-":
        return text[:10]
    return text[:-2] if text.endswith(".0") and text[:-2].lstrip("-").isdigit() else text


def _keys(frame: pd.DataFrame, columns: list[str]) -> list[tuple[object, ...]]:
    return list(zip(*(frame[column].map(_key) for column in columns), strict=True))


def _null(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA


def _same(left: object, right: object, col: Col, denominator: object, cents: float = MONEY_TOLERANCE) -> bool:
    """Equal as the kind says: counts exactly, money to the cent (`cents`), ratios to 1e-9 relative (a ratio of money
    with its money's tolerance propagated through the denominator)."""
    if _null(left) or _null(right):
        return _null(left) and _null(right)
    a, b = float(left), float(right)  # type: ignore[arg-type]
    if col.kind == COUNT:
        return abs(a - b) <= _SLACK
    if col.kind == MONEY:
        return abs(a - b) <= cents + _SLACK
    tolerance = RATIO_TOLERANCE * max(abs(a), abs(b))
    if col.kind == MONEY_RATIO and not _null(denominator) and float(denominator) != 0:  # type: ignore[arg-type]
        tolerance += cents * (1 + abs(b)) / abs(float(denominator))  # type: ignore[arg-type]
    return abs(a - b) <= tolerance + 1e-12


def mart_rows(frame: pd.DataFrame, cell: Cell) -> pd.DataFrame:
    rows = frame
    for query in (cell.family.where, cell.slice.where):
        if query:
            rows = rows.query(query)
    if cell.family.period_type and cell.period:
        rows = rows[rows["period_type"] == cell.period]
    return rows


def compare_cell(cell: Cell, metrics: pd.DataFrame, mart: pd.DataFrame) -> tuple[int, list[str]]:
    """Every metric of the cell against the mart's rows: (rows compared, one message per difference)."""
    time = [f"metric_time__{cell.period}"] if cell.period else []
    rows = mart_rows(mart, cell)
    mf_keys = _keys(metrics, time + [name for name, _ in cell.slice.group_by])
    mart_keys = _keys(
        rows, ([cell.family.time] if cell.period and cell.family.time else []) + [c for _, c in cell.slice.group_by]
    )
    mf_by_key = dict(zip(mf_keys, metrics.index, strict=True))
    mart_by_key = dict(zip(mart_keys, rows.index, strict=True))
    problems = (
        [f"{cell.label('*')}: duplicate keys"]
        if (len(mf_by_key), len(mart_by_key)) != (len(metrics), len(rows))
        else []
    )
    compared = 0
    for metric, col in cell.metrics().items():
        expected = col.column(rows) if callable(col.column) else rows[col.column]
        denominators = rows[col.denominator] if col.denominator else None
        parts = ROUNDED_SUMS.get((metric, cell.family.mart), (None, ""))[0]
        for key, index in mart_by_key.items():
            got = metrics.at[mf_by_key[key], metric] if key in mf_by_key else None
            want = expected.at[index]
            if key not in mf_by_key and (_null(want) or float(want) == 0):
                continue  # no MetricFlow row where the mart has nothing (a zero row of the mart's spine)
            compared += 1
            cents = max(MONEY_TOLERANCE, 0.005 * (float(rows.at[index, parts]) + 1)) if parts else MONEY_TOLERANCE
            if not _same(got, want, col, denominators.at[index] if denominators is not None else None, cents):
                problems.append(f"{cell.label(metric)}: at {key} MetricFlow gives {got}, the mart {want}")
        if cell.family.mart_keys_only:
            continue
        for key, index in mf_by_key.items():
            got = metrics.at[index, metric]
            if key not in mart_by_key and not (_null(got) or float(got) == 0):
                problems.append(f"{cell.label(metric)}: at {key} MetricFlow gives {got}, the mart has no row")
    return compared, problems


def run_matrix(
    project: tuple[Path, dict[str, str]], frame: Callable[[str], pd.DataFrame], families: Sequence[Family]
) -> tuple[int, int, list[str]]:
    """Query every grain once with all its metrics; compare each cell. Returns (cells, rows compared, problems)."""
    cells = matrix_cells(families)
    batches: dict[tuple[str, ...], list[str]] = {}
    for cell in cells:
        names = batches.setdefault(cell.group_by, [])
        names.extend(name for name in cell.metrics() if name not in names)
    frames = mf_frames(project, [(names, group_by) for group_by, names in batches.items()])
    results = dict(zip(batches, frames, strict=True))
    marts = {mart: frame(mart) for mart in {cell.family.mart for cell in cells}}
    compared, problems, empty = 0, [], []
    for cell in cells:
        rows, found = compare_cell(cell, results[cell.group_by], marts[cell.family.mart])
        if rows == 0:
            empty.append(cell.label(",".join(cell.metrics())))
        compared += rows
        problems += found
    problems += [f"nothing compared: {label}" for label in empty]
    return sum(len(cell.metrics()) for cell in cells), compared, problems


def _manifest(project: tuple[Path, dict[str, str]]) -> dict[str, Any]:
    folder, _ = project
    manifest: dict[str, Any] = json.loads((folder / "target" / "semantic_manifest.json").read_text(encoding="utf-8"))
    return manifest


def _marts(project: tuple[Path, dict[str, str]]) -> list[manifest.Mart]:
    folder, _ = project
    return manifest.marts(manifest.load(folder / "target" / "manifest.json"))


@pytest.fixture(scope="module")
def families(semantic_project: tuple[Path, dict[str, str]]) -> tuple[Family, ...]:
    """The hand-written families and those of the generated semantic models."""
    return FAMILIES + generated_families(_marts(semantic_project))


def test_every_metric_is_compared_or_listed(
    semantic_project: tuple[Path, dict[str, str]], families: tuple[Family, ...]
) -> None:
    """The matrix covers every metric of the semantic manifest: compared with a mart, or listed with a reason."""
    metrics = {metric["name"] for metric in _manifest(semantic_project)["metrics"]}
    compared = {name for family in families for name in family.metrics}
    listed = {**NOT_COMPARED, **generated_not_compared(_marts(semantic_project))}
    assert not compared & set(listed), compared & set(listed)
    assert metrics - compared - set(listed) == set(), "neither compared nor listed"
    assert (compared | set(listed)) - metrics == set(), "not in the semantic manifest"


def test_generated_marts_are_in_the_matrix(families: tuple[Family, ...], semantic_project) -> None:  # type: ignore[no-untyped-def]
    """Every generated mart's KPI columns are compared, for its default rows and each member kind's rows."""
    generated = semantic.generated_marts(_marts(semantic_project), project_root())
    assert "kpi_pipeline_coverage" in {mart.name for mart in generated}
    for mart in generated:
        compared = {name for family in families if family.mart == mart.name for name in family.metrics}
        kinds = sorted(mart.reading.members.dimensions) if mart.reading.members else []
        for column in (column for column in mart.columns if column.aggregate is not None):
            expected = {column.name, *(f"{kind}_{column.name}" for kind in kinds)}
            assert expected <= compared, (mart.name, expected - compared)


def test_no_metric_filters_on_a_dimension_it_offers(semantic_project: tuple[Path, dict[str, str]]) -> None:
    """A metric chooses its rows in its measures (or drops the rows without its entity), never by filtering a
    dimension to one value: that dimension (an attribution rule, a breakdown, a period type) would be offered as a
    group-by that silently returns the one value. Leaving out a total row (`!= 'all'`) keeps the dimension honoured:
    grouped by it, each value has its own rows."""
    filtered = {
        metric["name"]: where["where_sql_template"]
        for metric in _manifest(semantic_project)["metrics"]
        for where in (metric.get("filter") or {}).get("where_filters", [])
        if "Dimension(" in where["where_sql_template"] and "!= 'all'" not in where["where_sql_template"]
    }
    assert filtered == {}
    offered = {
        f"{model['name']}.{dimension['name']}"
        for model in _manifest(semantic_project)["semantic_models"]
        for dimension in model["dimensions"]
        if dimension["name"] in {"period_type", "breakdown", "attribution_rule", "grouping_level", "survey_type"}
    }
    assert offered == set()


def test_every_metric_equals_its_mart_at_every_grain(semantic_project, demo_warehouse, families) -> None:  # type: ignore[no-untyped-def]
    """The matrix: each grain is one `mf query` with every metric of that grain (the queries run in one process),
    compared cell by cell with the mart's rows of that grain. What MetricFlow cannot express is in NOT_EXPRESSIBLE."""
    cells, compared, problems = run_matrix(semantic_project, demo_warehouse.frame, families)
    assert cells == matrix_size(families) and compared > 10 * cells, (cells, compared)
    assert not problems, f"{len(problems)} differences:\n" + "\n".join(problems[:40])


def test_validate_configs(semantic_project: tuple[Path, dict[str, str]]) -> None:
    """Semantic models, metrics and the time spine are valid, and valid against the built warehouse."""
    folder, env = semantic_project
    done = subprocess.run([_mf(), "validate-configs"], cwd=folder, env=env, capture_output=True, text=True, check=False)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-4000:]
    assert "ERRORS: 0" in output and "Breaking issues" not in output, output[-4000:]


def test_readme_examples_run(semantic_project) -> None:  # type: ignore[no-untyped-def]
    """`mf query --metrics win_rate --group-by metric_time__quarter,rep__region`, as a user types it, and every other
    `mf query` of the semantic-layer section of docs/bi.md (linked from the README)."""
    result = mf_frame(semantic_project, ["win_rate"], ("metric_time__quarter", "rep__region"))
    assert {"metric_time__quarter", "rep__region", "win_rate"} <= set(result.columns)
    assert result["win_rate"].dropna().between(0, 1).all() and len(result) >= 8
    examples = []
    for line in (project_root() / "docs" / "bi.md").read_text(encoding="utf-8").splitlines():
        if line.startswith("mf query --metrics "):
            words = line.split()
            group_by = words[words.index("--group-by") + 1].split(",") if "--group-by" in words else []
            examples.append((words[3].split(","), tuple(group_by)))
    assert len(examples) >= 5
    for frame, (metrics, group_by) in zip(mf_frames(semantic_project, examples), examples, strict=True):
        assert set(metrics) | set(group_by) <= set(frame.columns) and len(frame) > 0, (metrics, group_by)


def test_mf_is_in_the_quick_start_and_optional_for_a_package_install() -> None:
    """`python3 bootstrap.py run` installs requirements.lock, which pins dbt-metricflow (so `mf` is there after the
    quick start); a package install keeps it an extra ('semantic'), not a dependency."""
    import tomllib

    root = project_root()
    runtime = (root / "requirements.lock").read_text(encoding="utf-8").splitlines()
    assert "dbt-metricflow==" in "\n".join(runtime) and "dbt-metricflow==" in (
        root / "requirements-dev.lock"
    ).read_text(encoding="utf-8")
    project = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert not any(dependency.startswith("dbt-metricflow") for dependency in project["dependencies"])
    assert any(dependency.startswith("dbt-metricflow") for dependency in project["optional-dependencies"]["semantic"])
    assert shutil.which("mf") or (Path(sys.executable).parent / "mf").exists()


def test_ratio_metrics_read_the_marts_declared_terms(semantic_project: tuple[Path, dict[str, str]]) -> None:
    """A MetricFlow ratio metric named as a KPI mart's declared ratio divides measures over exactly the columns
    the declaration names (meta numerator / denominator), on that mart: one definition for both readers."""
    import re

    from crm_kpi import manifest

    folder, _ = semantic_project
    semantic = json.loads((folder / "target" / "semantic_manifest.json").read_text(encoding="utf-8"))
    marts = {mart.name: mart for mart in manifest.kpi_marts(manifest.load(folder / "target" / "manifest.json"))}
    measures = {
        measure["name"]: (model["node_relation"]["alias"], measure.get("expr") or measure["name"])
        for model in semantic["semantic_models"]
        for measure in model["measures"]
    }
    simple = {m["name"]: m["type_params"]["measure"]["name"] for m in semantic["metrics"] if m["type"] == "simple"}
    compared, differ = 0, []
    for metric in (m for m in semantic["metrics"] if m["type"] == "ratio"):
        numerator = simple.get(metric["type_params"]["numerator"]["name"])
        denominator = simple.get(metric["type_params"]["denominator"]["name"])
        if numerator not in measures or denominator not in measures:
            continue
        mart = marts.get(measures[numerator][0])
        name = re.sub(r"_(month|quarter)_rows$", "", metric["name"])
        column = mart.column(name) if mart is not None else None
        if mart is None or column is None or column.ratio is None:
            continue
        keys = {*mart.grain, *mart.reading.grain_columns}

        def read(expression: str, on: manifest.Mart = mart, skip: set[str] = keys) -> set[str]:
            words = re.findall(r"[a-z_][a-z0-9_]*", re.sub(r"'[^']*'", "", expression))
            return {word for word in words if on.column(word) is not None and word not in skip}

        declared = tuple({c for term in terms for c in manifest.term_columns(term)} for terms in
                         (column.ratio.numerator, column.ratio.denominator))  # fmt: skip
        used = (read(measures[numerator][1]), read(measures[denominator][1]))
        compared += 1
        if used != declared:
            differ.append(f"{metric['name']}: measures read {used}, the mart declares {declared}")
    assert compared >= 15, compared
    assert not differ, differ
