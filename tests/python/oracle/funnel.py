"""Funnel and lead-management KPI marts (F1, F2, F5, M5 by cohort; F1 by period and F11; F6-F9 lead response)
from the raw CSVs."""

from __future__ import annotations

from datetime import date

import pandas as pd

from oracle.registry import mart
from oracle.sales import period_starts, periods
from oracle.shared import (
    end_of_day,
    lead_lifecycle,
    lookup,
    months_between,
    new_customers,
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
    "mql_to_customer_rate",
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
        mql_to_customer_rate=safe_ratio(funnel["customers"], funnel["mqls"]),
        leads_growth_rate=safe_ratio(funnel["leads"] - funnel["leads_previous_month"], funnel["leads_previous_month"]),
    )
    return funnel[FUNNEL_COLUMNS].sort_values(["cohort_month", "channel"]).reset_index(drop=True)


# --------------------------------------------------------------------------------------------------
# F1 period-based stage entries and F11 time to first purchase
# --------------------------------------------------------------------------------------------------

STAGE_ENTRY_COLUMNS = [
    "period_type",
    "period_start",
    "period_end",
    "channel",
    "leads_created",
    "entered_mql",
    "entered_sql",
    "entered_opportunity",
    "entered_won",
    "new_customers",
    "median_days_to_first_purchase",
    "mean_days_to_first_purchase",
]
STAGE_TIMES = {
    "leads_created": "created_at",
    "entered_mql": "mql_at",
    "entered_sql": "sql_at",
    "entered_opportunity": "opportunity_at",
    "entered_won": "won_on",
}


@mart("kpi_funnel_stage_entries")
def funnel_stage_entries(raw: Raw, as_of: date) -> pd.DataFrame:
    """kpi_funnel_stage_entries: every period (week, month, quarter) x channel with leads: stage entries counted in
    the period of the UTC date they happened; accounts acquired in the period and the days from their lead's
    creation date to their first won deal."""
    lifecycle = lead_lifecycle(raw, as_of)
    if lifecycle.empty:
        return pd.DataFrame(columns=STAGE_ENTRY_COLUMNS)
    acquired = new_customers(raw, as_of)
    acquired = acquired[acquired["source_lead_id"].isin(lifecycle["lead_id"])]
    leads = lifecycle.set_index("lead_id")
    acquired = acquired.assign(
        channel=lookup(acquired["source_lead_id"], leads["channel"]),
        days=(acquired["close_date"] - lookup(acquired["source_lead_id"], leads["created_at"]).dt.normalize()).dt.days,
    )
    channels = pd.DataFrame({"channel": sorted(lifecycle["channel"].unique())})
    frames = []
    for period_type, spine_rows in periods(raw, as_of).groupby("period_type"):
        grid = spine_rows.merge(channels, how="cross")
        for column, time in STAGE_TIMES.items():
            entered = lifecycle.dropna(subset=[time])
            starts = period_starts(entered[time].dt.normalize(), str(period_type))
            counts = entered.assign(period_start=starts).groupby(["period_start", "channel"]).size().rename(column)
            grid = grid.merge(counts.reset_index(), on=["period_start", "channel"], how="left")
        bought = acquired.assign(period_start=period_starts(acquired["close_date"], str(period_type)))
        times = bought.groupby(["period_start", "channel"])["days"].agg(
            new_customers="count", median_days_to_first_purchase="median", mean_days_to_first_purchase="mean"
        )
        frames.append(grid.merge(times.reset_index(), on=["period_start", "channel"], how="left"))
    entries = pd.concat(frames, ignore_index=True)
    for column in [*STAGE_TIMES, "new_customers"]:
        entries[column] = entries[column].fillna(0).astype("int64")
    for column in ["median_days_to_first_purchase", "mean_days_to_first_purchase"]:
        entries[column] = entries[column].astype(float)
    return entries[STAGE_ENTRY_COLUMNS].sort_values(["period_type", "period_start", "channel"]).reset_index(drop=True)


# --------------------------------------------------------------------------------------------------
# F6-F9 lead response
# --------------------------------------------------------------------------------------------------

REP_ROLES = ("sdr", "bdr", "ae", "am")  # dim_reps.is_rep
FOLLOW_UP_DAYS = 2  # dbt var follow_up_days (default)
RESPONSES = ("positive", "neutral", "negative", "meeting_booked")
POSITIVE_RESPONSES = ("positive", "meeting_booked")
LEAD_RESPONSE_COLUMNS = [
    "period_type",
    "period_start",
    "period_end",
    "grouping_level",
    "group_id",
    "leads",
    "leads_responded",
    "leads_never_touched",
    "median_response_days",
    "p90_response_days",
    "mqls",
    "mqls_responded",
    "mqls_never_touched",
    "median_mql_response_days",
    "p90_mql_response_days",
    "mqls_followed_up",
    "follow_up_rate",
    "prospects_contacted",
    "prospects_responded",
    "prospects_positive",
    "prospects_meeting_booked",
    "positive_response_rate",
    "meeting_booking_rate",
]


def teams_on(memberships: pd.DataFrame, events: pd.DataFrame) -> pd.Series:
    """Each event's owner's team on its day: the membership covering the day, the latest start first (ties by
    team_id); null when none (or no owner)."""
    keyed = events[["owner_user_id", "day"]].reset_index()
    covering = keyed.merge(memberships, left_on="owner_user_id", right_on="user_id")
    covering = covering[
        (covering["started_on"] <= covering["day"])
        & (covering["ended_on"].isna() | (covering["ended_on"] >= covering["day"]))
    ]
    first = covering.sort_values(["started_on", "team_id"], ascending=[False, True]).drop_duplicates("index")
    return first.set_index("index")["team_id"].reindex(events.index)


def leads_worked(raw: Raw, as_of: date) -> pd.DataFrame:
    """One row per lifecycle lead: owner, the first outbound rep activity at or after creation and after MQL (and
    the days to them), whether a rep activity records a response, a positive response, a booked meeting."""
    lifecycle = lead_lifecycle(raw, as_of)
    owners = raw["leads"].set_index("lead_id")["owner_user_id"]
    lifecycle = lifecycle.assign(owner_user_id=lookup(lifecycle["lead_id"], owners))
    users = raw["users"]
    reps = set(users[users["role"].isin(REP_ROLES)]["user_id"])
    activities = raw["activities"]
    activities = activities[
        activities["lead_id"].isin(lifecycle["lead_id"])
        & activities["user_id"].isin(reps)
        & (activities["occurred_at"] < end_of_day(as_of))
    ].merge(lifecycle[["lead_id", "created_at", "mql_at"]], on="lead_id")
    outbound = activities[activities["direction"] == "outbound"]
    first_response = outbound[outbound["occurred_at"] >= outbound["created_at"]].groupby("lead_id")["occurred_at"].min()
    first_mql_response = (
        outbound[outbound["mql_at"].notna() & (outbound["occurred_at"] >= outbound["mql_at"])]
        .groupby("lead_id")["occurred_at"]
        .min()
    )

    def leads_with(outcomes: tuple[str, ...]) -> set[str]:
        return set(activities[activities["outcome"].isin(outcomes)]["lead_id"])

    ids = lifecycle["lead_id"]
    worked = lifecycle.assign(
        first_response_at=lookup(ids, first_response),
        first_mql_response_at=lookup(ids, first_mql_response),
        has_response=ids.isin(leads_with(RESPONSES)),
        has_positive_response=ids.isin(leads_with(POSITIVE_RESPONSES)),
        has_meeting_booked=ids.isin(leads_with(("meeting_booked",))),
    )
    return worked.assign(
        response_days=(worked["first_response_at"] - worked["created_at"]).dt.total_seconds() / 86400,
        mql_response_days=(worked["first_mql_response_at"] - worked["mql_at"]).dt.total_seconds() / 86400,
    )


def _clock_events(raw: Raw, worked: pd.DataFrame) -> pd.DataFrame:
    """One row per clock start (lead created, MQL reached, first contact) with its day, owner, the owner's team
    that day and the measures it starts (each only on its own clock's rows)."""
    created = worked.assign(
        day=worked["created_at"].dt.normalize(),
        lead=1,
        lead_responded=worked["first_response_at"].notna().astype(int),
        lead_days=worked["response_days"],
    )
    mqls = worked.dropna(subset=["mql_at"])
    mqls = mqls.assign(
        day=mqls["mql_at"].dt.normalize(),
        mql=1,
        mql_responded=mqls["first_mql_response_at"].notna().astype(int),
        mql_days=mqls["mql_response_days"],
        followed_up=(mqls["mql_response_days"] <= FOLLOW_UP_DAYS).astype(int),
    )
    contacted = worked.dropna(subset=["first_response_at"])
    contacted = contacted.assign(
        day=contacted["first_response_at"].dt.normalize(),
        contacted=1,
        responded=contacted["has_response"].astype(int),
        positive=contacted["has_positive_response"].astype(int),
        meeting=contacted["has_meeting_booked"].astype(int),
    )
    flags = ["lead", "lead_responded", "mql", "mql_responded", "followed_up", "contacted", "responded", "positive"]
    events = pd.concat([created, mqls, contacted], ignore_index=True)
    events[[*flags, "meeting"]] = events[[*flags, "meeting"]].fillna(0).astype("int64")
    for column in ["lead_days", "mql_days"]:
        events[column] = events[column].astype(float)
    events["team_id"] = teams_on(raw["team_memberships"], events)
    return events


@mart("kpi_lead_response")
def lead_response(raw: Raw, as_of: date) -> pd.DataFrame:
    """kpi_lead_response: per period (week, month, quarter) and rep (lead owner), team (the owner's team on the day
    the clock starts) and all leads; each measure in the period of its clock start."""
    worked = leads_worked(raw, as_of)
    if worked.empty:
        return pd.DataFrame(columns=LEAD_RESPONSE_COLUMNS)
    events = _clock_events(raw, worked)
    events["rep"] = events["owner_user_id"].where(events["owner_user_id"].notna(), "unassigned")
    events["team"] = events["team_id"].where(events["team_id"].notna(), "no_team")
    events["all"] = "all"
    frames = []
    for period_type, spine_rows in periods(raw, as_of).groupby("period_type"):
        dated = events.assign(period_start=period_starts(events["day"], str(period_type)))
        for level in ("rep", "team", "all"):
            grouped = dated.groupby(["period_start", level])
            measures = grouped.agg(
                leads=("lead", "sum"),
                leads_responded=("lead_responded", "sum"),
                median_response_days=("lead_days", "median"),
                mqls=("mql", "sum"),
                mqls_responded=("mql_responded", "sum"),
                median_mql_response_days=("mql_days", "median"),
                mqls_followed_up=("followed_up", "sum"),
                prospects_contacted=("contacted", "sum"),
                prospects_responded=("responded", "sum"),
                prospects_positive=("positive", "sum"),
                prospects_meeting_booked=("meeting", "sum"),
            )
            measures["p90_response_days"] = grouped["lead_days"].quantile(0.9)
            measures["p90_mql_response_days"] = grouped["mql_days"].quantile(0.9)
            measures = measures.reset_index().rename(columns={level: "group_id"})
            if level == "all":
                keys = spine_rows.assign(group_id="all")
            else:
                keys = spine_rows.merge(measures[["period_start", "group_id"]], on="period_start")
            rows = keys.merge(measures, on=["period_start", "group_id"], how="left")
            frames.append(rows.assign(grouping_level=level))
    result = pd.concat(frames, ignore_index=True)
    counts = [
        "leads",
        "leads_responded",
        "mqls",
        "mqls_responded",
        "mqls_followed_up",
        "prospects_contacted",
        "prospects_responded",
        "prospects_positive",
        "prospects_meeting_booked",
    ]
    for column in counts:
        result[column] = result[column].fillna(0).astype("int64")
    for column in ["median_response_days", "p90_response_days", "median_mql_response_days", "p90_mql_response_days"]:
        result[column] = result[column].astype(float)
    result = result.assign(
        leads_never_touched=result["leads"] - result["leads_responded"],
        mqls_never_touched=result["mqls"] - result["mqls_responded"],
        follow_up_rate=safe_ratio(result["mqls_followed_up"], result["mqls"]),
        positive_response_rate=safe_ratio(result["prospects_positive"], result["prospects_contacted"]),
        meeting_booking_rate=safe_ratio(result["prospects_meeting_booked"], result["prospects_responded"]),
    )
    return (
        result[LEAD_RESPONSE_COLUMNS]
        .sort_values(["period_type", "period_start", "grouping_level", "group_id"])
        .reset_index(drop=True)
    )
