"""Marketing KPI marts (M1-M3: CAC per campaign) from the raw CSVs."""

from __future__ import annotations

from datetime import date

import pandas as pd

from oracle.registry import mart
from oracle.shared import (
    first_data_date,
    first_touch_campaigns,
    lead_lifecycle,
    lookup,
    month_start,
    months_between,
    new_customers,
    round_money,
    safe_ratio,
    won_deals,
)
from oracle.staging import Raw

ATTRIBUTION_RULE = "first_touch"
CAC_COLUMNS = [
    "campaign_id",
    "campaign_name",
    "channel",
    "attribution_rule",
    "spend",
    "leads",
    "mqls",
    "new_customers",
    "attributed_revenue",
    "cost_per_lead",
    "cost_per_mql",
    "cac",
    "roi",
]
CAC_MONTHLY_COLUMNS = [*CAC_COLUMNS[:1], "month", *CAC_COLUMNS[1:]]


def campaign_events(raw: Raw, as_of: date) -> pd.DataFrame:
    """campaign_id x month: spend, attributed leads created, attributed MQLs reached, new customers, revenue."""
    columns = ["campaign_id", "month", "spend", "leads", "mqls", "new_customers", "attributed_revenue"]
    campaign_ids = raw["campaigns"]["campaign_id"]
    spend = raw["campaign_spend"]
    spend = spend[spend["campaign_id"].isin(campaign_ids) & (spend["spend_date"] <= pd.Timestamp(as_of))]
    spend = spend.assign(month=month_start(spend["spend_date"]), spend=spend["amount"])

    lifecycle = lead_lifecycle(raw, as_of)
    campaign_of_lead = first_touch_campaigns(raw, lifecycle)
    attributed = lifecycle.assign(campaign_id=lookup(lifecycle["lead_id"], campaign_of_lead)).dropna(
        subset=["campaign_id"]
    )
    leads = attributed.assign(month=attributed["cohort_month"], leads=1)
    mqls = attributed.dropna(subset=["mql_at"])
    mqls = mqls.assign(month=month_start(mqls["mql_at"]), mqls=1)

    customers = new_customers(raw, as_of)
    customers = customers.assign(campaign_id=lookup(customers["source_lead_id"], campaign_of_lead)).dropna(
        subset=["campaign_id"]
    )
    customers = customers.assign(month=customers["close_month"], new_customers=1)
    won = won_deals(raw, as_of)
    won = won.assign(campaign_id=lookup(won["source_lead_id"], campaign_of_lead)).dropna(subset=["campaign_id"])
    won = won.assign(month=won["close_month"], attributed_revenue=won["amount"])

    parts = [
        frame[["campaign_id", "month", measure]]
        for frame, measure in [
            (spend, "spend"),
            (leads, "leads"),
            (mqls, "mqls"),
            (customers, "new_customers"),
            (won, "attributed_revenue"),
        ]
    ]
    parts = [part for part in parts if not part.empty]
    if not parts:
        return pd.DataFrame(columns=columns)
    events = pd.concat(parts, ignore_index=True).reindex(columns=columns)
    return events.groupby(["campaign_id", "month"], as_index=False)[columns[2:]].sum(min_count=0)


def _campaign_measures(frame: pd.DataFrame) -> pd.DataFrame:
    """Fill zero measures, round money, add the rates and the attribution rule."""
    frame = frame.copy()
    for column in ["leads", "mqls", "new_customers"]:
        frame[column] = frame[column].fillna(0).astype("int64")
    for column in ["spend", "attributed_revenue"]:
        frame[column] = round_money(frame[column].fillna(0.0))
    return frame.assign(
        attribution_rule=ATTRIBUTION_RULE,
        cost_per_lead=safe_ratio(frame["spend"], frame["leads"]),
        cost_per_mql=safe_ratio(frame["spend"], frame["mqls"]),
        cac=safe_ratio(frame["spend"], frame["new_customers"]),
        roi=safe_ratio(frame["attributed_revenue"] - frame["spend"], frame["spend"]),
    )


def _campaigns(raw: Raw) -> pd.DataFrame:
    return raw["campaigns"][["campaign_id", "campaign_name", "channel", "started_on", "ended_on"]]


@mart("kpi_campaign_cac")
def campaign_cac(raw: Raw, as_of: date) -> pd.DataFrame:
    """kpi_campaign_cac: one row per staged campaign, totals up to the as-of date."""
    events = campaign_events(raw, as_of)
    totals = events.groupby("campaign_id", as_index=False)[events.columns[2:].tolist()].sum()
    cac = _campaigns(raw).merge(totals, on="campaign_id", how="left")
    return _campaign_measures(cac)[CAC_COLUMNS].sort_values("campaign_id").reset_index(drop=True)


def campaign_months(raw: Raw, as_of: date) -> pd.DataFrame:
    """campaign_id x month from the later of the campaign's start month and the first data month to the
    earlier of its end month and the as-of month."""
    as_of_ts = pd.Timestamp(as_of)
    first_month = pd.Timestamp(first_data_date(raw)).replace(day=1)
    rows = [
        (campaign.campaign_id, month)
        for campaign in _campaigns(raw).itertuples(index=False)
        for month in months_between(
            max(campaign.started_on, first_month),
            as_of_ts if pd.isna(campaign.ended_on) else min(campaign.ended_on, as_of_ts),
        )
    ]
    return pd.DataFrame(rows, columns=["campaign_id", "month"])


@mart("kpi_campaign_cac_monthly")
def campaign_cac_monthly(raw: Raw, as_of: date) -> pd.DataFrame:
    """kpi_campaign_cac_monthly: campaign x month over the campaign's life plus any month with activity."""
    events = campaign_events(raw, as_of)
    keys = pd.concat([campaign_months(raw, as_of), events[["campaign_id", "month"]]]).drop_duplicates()
    monthly = keys.merge(events, on=["campaign_id", "month"], how="left")
    monthly = monthly.merge(_campaigns(raw)[["campaign_id", "campaign_name", "channel"]], on="campaign_id")
    monthly = _campaign_measures(monthly)
    return monthly[CAC_MONTHLY_COLUMNS].sort_values(["campaign_id", "month"]).reset_index(drop=True)
