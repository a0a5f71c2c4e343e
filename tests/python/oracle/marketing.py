"""Marketing KPI marts (M1-M3: CAC per campaign under four attribution rules; M4: lift) from the raw CSVs.

Written from the definitions (models/docs/marketing.md: multi_touch_attribution, kpi_campaign_cac_by_rule,
kpi_campaign_lift; the marts' YAML), never from the SQL.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

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

ATTRIBUTION_RULES = ("first_touch", "last_touch", "linear", "position_based")
TOUCH_RULES = ATTRIBUTION_RULES[1:]
ATTRIBUTION_WINDOW_DAYS = 90  # dbt var attribution_window_days (default)
CAMPAIGN_OVERHEAD_RATE = 0.0  # dbt var campaign_overhead_rate (default: off)
UNATTRIBUTED = "unattributed"
MEASURES = ["spend", "leads", "mqls", "new_customers", "attributed_revenue"]
CAC_COLUMNS = [
    "campaign_id",
    "campaign_name",
    "channel",
    "attribution_rule",
    "spend",
    "overhead",
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


# --------------------------------------------------------------------------------------------------
# Attribution
# --------------------------------------------------------------------------------------------------


def touch_paths(raw: Raw, lifecycle: pd.DataFrame) -> dict[str, list[tuple[pd.Timestamp, str]]]:
    """Each lifecycle lead's campaign touches (campaigns in staging), ordered by touched_at then touch_id, as
    (touched_at, campaign_id); a lead without any has its source campaign (in staging) at its creation."""
    campaign_ids = set(raw["campaigns"]["campaign_id"])
    touches = raw["campaign_touches"]
    touches = touches[touches["campaign_id"].isin(campaign_ids) & touches["lead_id"].isin(lifecycle["lead_id"])]
    touches = touches.sort_values(["touched_at", "touch_id"])
    paths: dict[str, list[tuple[pd.Timestamp, str]]] = defaultdict(list)
    for touch in touches.itertuples(index=False):
        paths[touch.lead_id].append((touch.touched_at, touch.campaign_id))
    for lead in lifecycle.itertuples(index=False):
        if lead.lead_id not in paths and lead.source_campaign_id in campaign_ids:
            paths[lead.lead_id] = [(lead.created_at, lead.source_campaign_id)]
    return paths


def rule_credits(campaigns: list[str]) -> dict[str, dict[str, float]]:
    """The touch rules' credit per campaign over a non-empty path of touches (in order)."""
    n = len(campaigns)
    if n == 1:
        weights = [1.0]
    elif n == 2:
        weights = [0.5, 0.5]
    else:
        weights = [0.4] + [0.2 / (n - 2)] * (n - 2) + [0.4]
    credits: dict[str, dict[str, float]] = {rule: defaultdict(float) for rule in TOUCH_RULES}
    credits["last_touch"][campaigns[-1]] += 1.0
    for campaign, weight in zip(campaigns, weights, strict=True):
        credits["linear"][campaign] += 1.0 / n
        credits["position_based"][campaign] += weight
    return credits


def deal_credits(raw: Raw, as_of: date, window_days: int = ATTRIBUTION_WINDOW_DAYS) -> pd.DataFrame:
    """Won deal x rule x campaign (None: unattributed) with the credit; each deal's credits sum to 1 per rule.

    first_touch: the source lead's first-touch campaign (no window). The touch rules: the source lead's touches
    dated from close_date - window_days to close_date (both included)."""
    columns = ["opportunity_id", "attribution_rule", "campaign_id", "credit", "amount", "month", "is_new_customer"]
    lifecycle = lead_lifecycle(raw, as_of)
    first_touch = first_touch_campaigns(raw, lifecycle)
    paths = touch_paths(raw, lifecycle)
    first_wins = set(new_customers(raw, as_of)["opportunity_id"])
    rows = []
    for deal in won_deals(raw, as_of).itertuples(index=False):
        lead = None if pd.isna(deal.source_lead_id) else deal.source_lead_id
        base = (deal.opportunity_id, deal.amount, deal.close_month, deal.opportunity_id in first_wins)

        def add(rule: str, campaign: str | None, credit: float, base: tuple = base) -> None:
            rows.append((base[0], rule, campaign, credit, base[1], base[2], base[3]))

        add("first_touch", first_touch.get(lead) if lead is not None else None, 1.0)
        window_start = deal.close_date - pd.Timedelta(days=window_days)
        lead_path = paths.get(lead, []) if lead is not None else []
        path = [
            campaign for touched_at, campaign in lead_path if window_start <= touched_at.normalize() <= deal.close_date
        ]
        if not path:
            for rule in TOUCH_RULES:
                add(rule, None, 1.0)
            continue
        for rule, credits in rule_credits(path).items():
            for campaign, credit in credits.items():
                add(rule, campaign, credit)
    return pd.DataFrame(rows, columns=columns)


# --------------------------------------------------------------------------------------------------
# CAC
# --------------------------------------------------------------------------------------------------


def _campaigns(raw: Raw) -> pd.DataFrame:
    return raw["campaigns"][["campaign_id", "campaign_name", "channel", "started_on", "ended_on"]]


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


def campaign_events(raw: Raw, as_of: date) -> pd.DataFrame:
    """campaign_id (None: unattributed) x month x rule: spend, leads, MQLs (first-touch campaign, the same under
    every rule) and the rule's new customers and revenue; every month of the campaign's run, and any month with
    a measure under the rule. Empty when there is no campaign."""
    columns = ["campaign_id", "month", "attribution_rule", *MEASURES]
    campaign_ids = raw["campaigns"]["campaign_id"]
    if campaign_ids.empty:
        return pd.DataFrame(columns=columns)
    spend = raw["campaign_spend"]
    spend = spend[spend["campaign_id"].isin(campaign_ids) & (spend["spend_date"] <= pd.Timestamp(as_of))]
    # A spend row's amount is rounded to the cent once (fct_campaign_spend.amount); every total sums those.
    spend = spend.assign(month=month_start(spend["spend_date"]), spend=round_money(spend["amount"]))

    lifecycle = lead_lifecycle(raw, as_of)
    campaign_of_lead = first_touch_campaigns(raw, lifecycle)
    leads = lifecycle.assign(campaign_id=lookup(lifecycle["lead_id"], campaign_of_lead))
    created = leads.assign(month=leads["cohort_month"], leads=1)
    mqls = leads.dropna(subset=["mql_at"])
    mqls = mqls.assign(month=month_start(mqls["mql_at"]), mqls=1)
    running = campaign_months(raw, as_of)

    rule_free = pd.concat(
        [
            frame[["campaign_id", "month", *[m for m in MEASURES if m in frame.columns]]]
            for frame in (spend, created, mqls, running)
        ],
        ignore_index=True,
    )
    rule_free = rule_free.merge(pd.DataFrame({"attribution_rule": ATTRIBUTION_RULES}), how="cross")

    credits = deal_credits(raw, as_of)
    credits = credits.assign(
        new_customers=credits["credit"].where(credits["is_new_customer"], 0.0),
        attributed_revenue=credits["amount"] * credits["credit"],
    )
    events = pd.concat(
        [rule_free, credits[["campaign_id", "month", "attribution_rule", "new_customers", "attributed_revenue"]]],
        ignore_index=True,
    ).reindex(columns=columns)
    events[MEASURES] = events[MEASURES].astype(float).fillna(0.0)
    events["campaign_id"] = events["campaign_id"].astype(object).where(events["campaign_id"].notna(), UNATTRIBUTED)
    return events.groupby(["campaign_id", "month", "attribution_rule"], as_index=False)[MEASURES].sum()


def round_credits(values: pd.Series) -> pd.Series:
    """Attributed customers (sums of credits) to 6 decimals, half away from zero (float noise below 1e-9 first)."""

    def to_micro(value: float) -> float:
        return float(Decimal(repr(round(value, 9))).quantize(Decimal("0.000001"), rounding=ROUND_HALF_UP))

    return values.astype(float).map(to_micro).astype(float)


def _campaign_measures(frame: pd.DataFrame) -> pd.DataFrame:
    """Fill zero measures, round money, add the overhead and the rates."""
    frame = frame.copy()
    for column in ["leads", "mqls"]:
        frame[column] = frame[column].fillna(0).astype("int64")
    frame["new_customers"] = round_credits(frame["new_customers"].fillna(0.0))
    spend = frame["spend"].fillna(0.0)
    frame["spend"] = round_money(spend)
    frame["overhead"] = round_money(spend * CAMPAIGN_OVERHEAD_RATE)
    frame["attributed_revenue"] = round_money(frame["attributed_revenue"].fillna(0.0))
    return frame.assign(
        cost_per_lead=safe_ratio(frame["spend"], frame["leads"]),
        cost_per_mql=safe_ratio(frame["spend"], frame["mqls"]),
        cac=safe_ratio(frame["spend"] + frame["overhead"], frame["new_customers"]),
        roi=safe_ratio(frame["attributed_revenue"] - frame["spend"], frame["spend"]),
    )


def _names(raw: Raw) -> pd.DataFrame:
    """Campaign names and channels, and the unattributed row's."""
    named = raw["campaigns"][["campaign_id", "campaign_name", "channel"]]
    unattributed = pd.DataFrame({"campaign_id": [UNATTRIBUTED], "campaign_name": ["Unattributed"], "channel": [None]})
    return pd.concat([named, unattributed], ignore_index=True)


@mart("kpi_campaign_cac")
def campaign_cac(raw: Raw, as_of: date) -> pd.DataFrame:
    """kpi_campaign_cac: every staged campaign and the unattributed row, under every rule, totals to the as-of date."""
    if raw["campaigns"].empty:
        return pd.DataFrame(columns=CAC_COLUMNS)
    # A campaign's totals are the sums of its months as kpi_campaign_cac_monthly publishes them (each rounded).
    monthly = _campaign_measures(campaign_events(raw, as_of))
    totals = monthly.groupby(["campaign_id", "attribution_rule"], as_index=False)[MEASURES].sum()
    keys = _names(raw).merge(pd.DataFrame({"attribution_rule": ATTRIBUTION_RULES}), how="cross")
    cac = keys.merge(totals, on=["campaign_id", "attribution_rule"], how="left")
    cac = _campaign_measures(cac)
    return cac[CAC_COLUMNS].sort_values(["campaign_id", "attribution_rule"]).reset_index(drop=True)


@mart("kpi_campaign_cac_monthly")
def campaign_cac_monthly(raw: Raw, as_of: date) -> pd.DataFrame:
    """kpi_campaign_cac_monthly: campaign (or unattributed) x month x rule over the campaign's life plus activity."""
    events = campaign_events(raw, as_of)
    if events.empty:
        return pd.DataFrame(columns=CAC_MONTHLY_COLUMNS)
    monthly = _campaign_measures(events.merge(_names(raw), on="campaign_id", how="left"))
    return monthly[CAC_MONTHLY_COLUMNS].sort_values(["campaign_id", "month", "attribution_rule"]).reset_index(drop=True)


# --------------------------------------------------------------------------------------------------
# Lift
# --------------------------------------------------------------------------------------------------

LIFT_COLUMNS = [
    "campaign_id",
    "campaign_name",
    "channel",
    "region",
    "window_start",
    "window_end",
    "window_days",
    "baseline_start",
    "baseline_end",
    "is_baseline_complete",
    "window_bookings",
    "window_won_deals",
    "baseline_bookings",
    "baseline_won_deals",
    "incremental_bookings",
    "lift_rate",
    "overlapping_campaigns",
]


def _regions_match(first: object, second: object) -> bool:
    """Overlapping regions: equal, or either is null (a campaign for every region)."""
    return pd.isna(first) or pd.isna(second) or first == second


@mart("kpi_campaign_lift")
def campaign_lift(raw: Raw, as_of: date) -> pd.DataFrame:
    """kpi_campaign_lift: per campaign started by the as-of date, the channel's (and region's) won bookings in the
    campaign window minus those of the same-length window before it."""
    as_of_ts = pd.Timestamp(as_of)
    campaigns = raw["campaigns"]
    campaigns = campaigns[campaigns["started_on"] <= as_of_ts]
    if campaigns.empty:
        return pd.DataFrame(columns=LIFT_COLUMNS)
    lifecycle = lead_lifecycle(raw, as_of)
    regions = raw["leads"].set_index("lead_id")["region"]
    deals = won_deals(raw, as_of)
    deals = deals[deals["source_lead_id"].isin(lifecycle["lead_id"])]
    deals = deals.assign(
        channel=lookup(deals["source_lead_id"], lifecycle.set_index("lead_id")["channel"]),
        region=lookup(deals["source_lead_id"], regions),
    )
    windows = campaigns[["campaign_id", "campaign_name", "channel", "region", "started_on", "ended_on"]].copy()
    windows["window_start"] = windows["started_on"]
    windows["window_end"] = windows["ended_on"].where(windows["ended_on"].notna() & (windows["ended_on"] <= as_of_ts))
    windows["window_end"] = windows["window_end"].fillna(as_of_ts)
    windows["window_days"] = (windows["window_end"] - windows["window_start"]).dt.days + 1
    windows["baseline_start"] = windows["window_start"] - pd.to_timedelta(windows["window_days"], unit="D")
    windows["baseline_end"] = windows["window_start"] - pd.Timedelta(days=1)
    windows["is_baseline_complete"] = windows["baseline_start"] >= pd.Timestamp(first_data_date(raw))
    rows = []
    for campaign in windows.itertuples(index=False):
        same = deals[
            (deals["channel"] == campaign.channel)
            & deals["region"].map(lambda region, wanted=campaign.region: pd.isna(wanted) or region == wanted)
        ]
        in_window = same[(same["close_date"] >= campaign.window_start) & (same["close_date"] <= campaign.window_end)]
        in_baseline = same[
            (same["close_date"] >= campaign.baseline_start) & (same["close_date"] <= campaign.baseline_end)
        ]
        overlapping = sum(
            other.campaign_id != campaign.campaign_id
            and other.channel == campaign.channel
            and _regions_match(other.region, campaign.region)
            and other.window_start <= campaign.window_end
            and other.window_end >= campaign.baseline_start
            for other in windows.itertuples(index=False)
        )
        rows.append(
            (
                campaign.campaign_id,
                in_window["amount"].sum(),
                len(in_window),
                in_baseline["amount"].sum(),
                len(in_baseline),
                overlapping,
            )
        )
    measures = pd.DataFrame(
        rows,
        columns=[
            "campaign_id",
            "window_bookings",
            "window_won_deals",
            "baseline_bookings",
            "baseline_won_deals",
            "overlapping_campaigns",
        ],
    )
    lift = windows.merge(measures, on="campaign_id")
    lift["window_bookings"] = round_money(lift["window_bookings"].astype(float))
    lift["baseline_bookings"] = round_money(lift["baseline_bookings"].astype(float))
    lift["incremental_bookings"] = round_money(lift["window_bookings"] - lift["baseline_bookings"])
    lift["lift_rate"] = safe_ratio(lift["incremental_bookings"], lift["baseline_bookings"])
    for column in ["window_days", "window_won_deals", "baseline_won_deals", "overlapping_campaigns"]:
        lift[column] = lift[column].astype("int64")
    return lift[LIFT_COLUMNS].sort_values("campaign_id").reset_index(drop=True)
