"""Funnel KPI marts (F1, F2, F5) from the raw CSVs."""

from __future__ import annotations

from datetime import date

import pandas as pd

from oracle.registry import mart
from oracle.shared import (
    lead_lifecycle,
    months_between,
    safe_ratio,
    spine,
)
from oracle.staging import Raw

FUNNEL_COLUMNS = [
    "cohort_month",
    "channel",
    "leads",
    "mqls",
    "sqls",
    "opportunities",
    "customers",
    "mql_rate",
    "sql_rate",
    "opportunity_rate",
    "win_rate",
    "lead_to_customer_rate",
    "median_days_to_mql",
    "median_days_mql_to_sql",
    "median_days_sql_to_opportunity",
    "median_days_opportunity_to_won",
    "leads_previous_month",
    "leads_growth_rate",
]


def _days(later: pd.Series, earlier: pd.Series) -> pd.Series:
    return (later - earlier).dt.total_seconds() / 86400.0


@mart("kpi_funnel_conversion")
def funnel_conversion(raw: Raw, as_of: date) -> pd.DataFrame:
    """kpi_funnel_conversion: one row per cohort month (first lead's month .. as-of month) x channel with leads."""
    lifecycle = lead_lifecycle(raw, as_of)
    if lifecycle.empty:
        return pd.DataFrame(columns=FUNNEL_COLUMNS)
    lifecycle = lifecycle.assign(
        days_to_mql=_days(lifecycle["mql_at"], lifecycle["created_at"]),
        days_mql_to_sql=_days(lifecycle["sql_at"], lifecycle["mql_at"]),
        days_sql_to_opportunity=_days(lifecycle["opportunity_at"], lifecycle["sql_at"]),
        days_opportunity_to_won=_days(lifecycle["won_on"], lifecycle["opportunity_at"].dt.normalize()),
    )
    counts = lifecycle.groupby(["cohort_month", "channel"]).agg(
        leads=("lead_id", "count"),
        mqls=("mql_at", "count"),
        sqls=("sql_at", "count"),
        opportunities=("opportunity_at", "count"),
        customers=("won_on", "count"),
        median_days_to_mql=("days_to_mql", "median"),
        median_days_mql_to_sql=("days_mql_to_sql", "median"),
        median_days_sql_to_opportunity=("days_sql_to_opportunity", "median"),
        median_days_opportunity_to_won=("days_opportunity_to_won", "median"),
    )
    months = months_between(lifecycle["cohort_month"].min(), pd.Timestamp(as_of))
    channels = pd.DataFrame({"channel": sorted(lifecycle["channel"].unique())})
    funnel = spine(channels, months).rename(columns={"month": "cohort_month"})
    funnel = funnel.merge(counts.reset_index(), on=["cohort_month", "channel"], how="left")
    for column in ["leads", "mqls", "sqls", "opportunities", "customers"]:
        funnel[column] = funnel[column].fillna(0).astype("int64")
    previous = funnel[["cohort_month", "channel", "leads"]].assign(
        cohort_month=funnel["cohort_month"] + pd.offsets.MonthBegin(1)
    )
    funnel = funnel.merge(
        previous.rename(columns={"leads": "leads_previous_month"}), on=["cohort_month", "channel"], how="left"
    )
    funnel["leads_previous_month"] = funnel["leads_previous_month"].fillna(0).astype("int64")
    funnel = funnel.assign(
        mql_rate=safe_ratio(funnel["mqls"], funnel["leads"]),
        sql_rate=safe_ratio(funnel["sqls"], funnel["mqls"]),
        opportunity_rate=safe_ratio(funnel["opportunities"], funnel["sqls"]),
        win_rate=safe_ratio(funnel["customers"], funnel["opportunities"]),
        lead_to_customer_rate=safe_ratio(funnel["customers"], funnel["leads"]),
        leads_growth_rate=safe_ratio(funnel["leads"] - funnel["leads_previous_month"], funnel["leads_previous_month"]),
    )
    return funnel[FUNNEL_COLUMNS].sort_values(["cohort_month", "channel"]).reset_index(drop=True)
