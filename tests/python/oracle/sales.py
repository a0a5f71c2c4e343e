"""Sales KPI marts from the raw CSVs: revenue per rep (S3, S4, S6, F3), revenue by period (S1, S2), the
pipeline at every period end and its waterfall (S8), quota attainment (S4), win rate and cycle (F3, F4, S6, S7,
F10, S12), margin (S5), location (S9), upsell and cross-sell (S10), rep activity (S11), competitor price index
(S12), opportunity score (F12), and the marketing-sourced pipeline (M6, which needs the pipeline state).

Written from the definitions (models/docs/sales.md and each mart's YAML), never from the SQL."""

from __future__ import annotations

import math
from datetime import date

import pandas as pd

from oracle.registry import mart
from oracle.shared import (
    as_month,
    closed_deals,
    end_of_day,
    first_data_date,
    first_touch_campaigns,
    lead_lifecycle,
    month_start,
    months_between,
    opportunities_in_scope,
    revenue_entries,
    round_money,
    safe_ratio,
    won_deals,
)
from oracle.staging import Raw, exchange_rate, is_true, lookup

REP_ROLES = ("ae", "am")  # closers: they own deals and carry quota (dim_reps.is_closer)
REVENUE_PER_REP_COLUMNS = [
    "user_id",
    "month",
    "rep_name",
    "role",
    "bookings",
    "won_deals",
    "lost_deals",
    "lost_amount",
    "average_deal_size",
    "win_rate",
    "amount_win_rate",
    "quota",
    "quota_attainment",
]


def quota_rows(raw: Raw) -> pd.DataFrame:
    """The staged quotas, each amount (reporting currency) to the cent: a period's quota is a sum of cents."""
    quotas = raw["quotas"]
    return quotas.assign(amount=round_money(quotas["amount"]))


def rep_months(raw: Raw, as_of: date, deals: pd.DataFrame) -> pd.DataFrame:
    """Reps (role ae/am, or owner of a closed deal) x every month employed within [first data month, as-of month].

    Plus any month in which the rep closed a deal.
    """
    users = raw["users"]
    reps = users[users["role"].isin(REP_ROLES) | users["user_id"].isin(deals["owner_user_id"])]
    first = pd.Timestamp(first_data_date(raw))
    as_of_ts = pd.Timestamp(as_of)
    rows = [
        (rep.user_id, month)
        for rep in reps.itertuples(index=False)
        for month in months_between(
            max(rep.hired_on, first), as_of_ts if pd.isna(rep.left_on) else min(rep.left_on, as_of_ts)
        )
    ]
    employed = pd.DataFrame(rows, columns=["user_id", "month"])
    closing = deals[["owner_user_id", "close_month"]].set_axis(["user_id", "month"], axis=1)
    spine = pd.concat([employed, closing], ignore_index=True).drop_duplicates()
    return spine.merge(reps[["user_id", "full_name", "role"]], on="user_id", how="inner")


@mart("kpi_revenue_per_rep")
def revenue_per_rep(raw: Raw, as_of: date) -> pd.DataFrame:
    """kpi_revenue_per_rep: bookings, won/lost deals and quota per rep x month (close month of the deals)."""
    deals = closed_deals(raw, as_of)
    deals = deals[deals["owner_user_id"].isin(raw["users"]["user_id"])]
    deals = deals.assign(
        won=deals["is_won"].astype("int64"),
        lost=(~deals["is_won"]).astype("int64"),
        won_amount=deals["amount"].where(deals["is_won"], 0.0),
        lost_amount=deals["amount"].where(~deals["is_won"], 0.0),
    )
    per_month = deals.groupby(["owner_user_id", "close_month"], as_index=False)[
        ["won", "lost", "won_amount", "lost_amount"]
    ].sum()
    per_month = per_month.rename(columns={"owner_user_id": "user_id", "close_month": "month"})

    quotas = quota_rows(raw).dropna(subset=["user_id"])
    quotas = quotas.assign(month=month_start(quotas["month_start"]))
    quota = quotas.groupby(["user_id", "month"], as_index=False)["amount"].sum().rename(columns={"amount": "quota"})

    # Rows: the reps' months, and every month in which a user has a quota row (even after they left).
    first, last = as_month(first_data_date(raw)), as_month(as_of)
    quota_months = quota[(quota["month"] >= first) & (quota["month"] <= last)][["user_id", "month"]]
    quota_months = quota_months.merge(raw["users"][["user_id", "full_name", "role"]], on="user_id", how="inner")
    spine = pd.concat([rep_months(raw, as_of, deals), quota_months], ignore_index=True).drop_duplicates(
        subset=["user_id", "month"]
    )
    rows = spine.merge(per_month, on=["user_id", "month"], how="left")
    rows = rows.merge(quota, on=["user_id", "month"], how="left")
    rows = rows.rename(columns={"full_name": "rep_name", "won": "won_deals", "lost": "lost_deals"})
    rows["won_deals"] = rows["won_deals"].fillna(0).astype("int64")
    rows["lost_deals"] = rows["lost_deals"].fillna(0).astype("int64")
    rows["bookings"] = round_money(rows["won_amount"].fillna(0.0))
    rows["lost_amount"] = round_money(rows["lost_amount"].fillna(0.0))
    rows["quota"] = round_money(rows["quota"])
    rows = rows.assign(
        average_deal_size=safe_ratio(rows["bookings"], rows["won_deals"]),
        win_rate=safe_ratio(rows["won_deals"], rows["won_deals"] + rows["lost_deals"]),
        amount_win_rate=safe_ratio(rows["bookings"], rows["bookings"] + rows["lost_amount"]),
        quota_attainment=safe_ratio(rows["bookings"], rows["quota"]),
    )
    return rows[REVENUE_PER_REP_COLUMNS].sort_values(["user_id", "month"]).reset_index(drop=True)


# --------------------------------------------------------------------------------------------------
# Periods, credit and the opportunity's state (models/docs/sales.md), written from the definitions
# --------------------------------------------------------------------------------------------------

PERIOD_TYPES = ("week", "month", "quarter")
MONTH_QUARTER = ("month", "quarter")
ACTIVITY_TYPES = (
    ("calls", "call"),
    ("emails", "email"),
    ("meetings", "meeting"),
    ("demos", "demo"),
    ("proposals", "proposal"),
)
UNASSIGNED = "unassigned"


def period_starts(days: pd.Series, period_type: str) -> pd.Series:
    """First day of each day's period: ISO week (Monday), month or quarter."""
    if period_type == "week":
        return days - pd.to_timedelta(days.dt.weekday, unit="D")
    return days.dt.to_period("M" if period_type == "month" else "Q").dt.to_timestamp()


def periods(raw: Raw, as_of: date, types: tuple[str, ...] = PERIOD_TYPES) -> pd.DataFrame:
    """Every ISO week, month and quarter from the first data date's to the as-of date's: type, start, end, the
    snapshot date (the end, or the as-of date for the period holding it), the previous and year-ago starts."""
    days = pd.Series(pd.date_range(pd.Timestamp(first_data_date(raw)), pd.Timestamp(as_of), freq="D"))
    lengths = {"week": pd.DateOffset(days=6), "month": pd.offsets.MonthEnd(0), "quarter": pd.offsets.QuarterEnd(0)}
    previous = {"week": pd.DateOffset(days=7), "month": pd.DateOffset(months=1), "quarter": pd.DateOffset(months=3)}
    year_ago = {"week": pd.DateOffset(days=364), "month": pd.DateOffset(months=12), "quarter": pd.DateOffset(months=12)}
    frames = []
    for period_type in types:
        starts = period_starts(days, period_type).drop_duplicates().reset_index(drop=True)
        ends = starts + lengths[period_type]
        frames.append(
            pd.DataFrame(
                {
                    "period_type": period_type,
                    "period_start": starts,
                    "period_end": ends,
                    "snapshot_date": ends.where(ends <= pd.Timestamp(as_of), pd.Timestamp(as_of)),
                    "previous_period_start": starts - previous[period_type],
                    "year_ago_period_start": starts - year_ago[period_type],
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def in_periods(
    frame: pd.DataFrame, day_column: str, spine: pd.DataFrame, end_column: str = "period_end"
) -> pd.DataFrame:
    """Each row of `frame` once per period (of `spine`) whose [period_start, end_column] holds its day."""
    merged = frame.merge(spine, how="cross")
    day = merged[day_column]
    return merged[(day >= merged["period_start"]) & (day <= merged[end_column])]


def deal_rates(raw: Raw, opportunities: pd.DataFrame) -> pd.Series:
    """Each deal's rate to the reporting currency on its created date: the rate its amount was converted with."""
    return exchange_rate(opportunities["original_currency"], opportunities["created_at"], raw["exchange_rates"], "USD")


def teams_on(raw: Raw, as_of: date, users: pd.Series, days: pd.Series) -> pd.DataFrame:
    """The team of each user on each day (the membership covering it; of two, the one started last, ties by
    team_id) and that team's manager; null outside [first data date, as-of date] or without a membership."""
    frame = pd.DataFrame({"row": range(len(users)), "user_id": users.to_numpy(), "day": days.to_numpy()})
    memberships = raw["team_memberships"][["user_id", "team_id", "started_on", "ended_on"]]
    merged = frame.merge(memberships, on="user_id")
    covering = merged[
        (merged["started_on"] <= merged["day"])
        & (merged["ended_on"].isna() | (merged["ended_on"] >= merged["day"]))
        & (merged["day"] >= pd.Timestamp(first_data_date(raw)))
        & (merged["day"] <= pd.Timestamp(as_of))
    ]
    covering = covering.sort_values(["row", "started_on", "team_id"], ascending=[True, False, True])
    chosen = covering.drop_duplicates("row").set_index("row")["team_id"]
    team = pd.Series(chosen.reindex(frame["row"]).to_numpy(), index=users.index, dtype=object)
    managers = raw["teams"].set_index("team_id")["manager_user_id"]
    manager = pd.Series(managers.reindex(team.to_numpy()).to_numpy(), index=users.index, dtype=object)
    return pd.DataFrame({"team_id": team, "manager_user_id": manager.where(team.notna())})


def credited_teams(raw: Raw, as_of: date, users: pd.Series, days: pd.Series) -> pd.DataFrame:
    """teams_on with the unassigned team (and manager) where there is none."""
    teams = teams_on(raw, as_of, users, days)
    return teams.fillna(UNASSIGNED)


def opportunity_states(raw: Raw, as_of: date) -> pd.DataFrame:
    """Every stage-history row (changed on or before the as-of date) of an opportunity in scope, as a state valid
    until the deal's next change; amount at the deal's rate, in cents; the previous state's amount and openness."""
    opportunities = opportunities_in_scope(raw, as_of)
    opportunities = opportunities.assign(rate=deal_rates(raw, opportunities))
    keep = ["opportunity_id", "owner_user_id", "account_id", "source_lead_id", "opportunity_type", "rate"]
    history = raw["opportunity_stage_history"]
    history = history[history["changed_at"] < end_of_day(as_of)].merge(opportunities[keep], on="opportunity_id")
    stages = raw["stages"][["stage", "probability", "is_closed", "is_won"]]
    history = history.merge(stages, on="stage")
    history = history.sort_values(["opportunity_id", "changed_at"]).reset_index(drop=True)
    closed = is_true(history["is_closed"])
    won = is_true(history["is_won"])
    deal = history.groupby("opportunity_id")
    states = history.assign(
        amount=round_money(history["amount"] * history["rate"]),
        stage_probability=history["probability"].astype(float),
        is_open=~closed,
        is_won=won,
        is_lost=closed & ~won,
        state_number=deal.cumcount() + 1,
        valid_from_on=history["changed_at"].dt.normalize(),
        valid_to_on=deal["changed_at"].shift(-1).dt.normalize(),
    )
    states["previous_amount"] = states.groupby("opportunity_id")["amount"].shift(1)
    previous_open = states.groupby("opportunity_id")["is_open"].shift(1)
    states["was_open"] = previous_open.map(lambda value: None if pd.isna(value) else bool(value)).astype(object)
    return states


def open_on(states: pd.DataFrame, spine: pd.DataFrame, day_column: str) -> pd.DataFrame:
    """The open states at the end of each period's `day_column` day: one row per period and open deal."""
    merged = spine.merge(states[states["is_open"]], how="cross")
    day = merged[day_column]
    valid = (merged["valid_from_on"] <= day) & (merged["valid_to_on"].isna() | (merged["valid_to_on"] > day))
    return merged[valid]


def employed_closers(raw: Raw, spine: pd.DataFrame, roles: tuple[str, ...] = REP_ROLES) -> pd.DataFrame:
    """(period_type, period_start, user_id) of every user of these roles employed during the period."""
    users = raw["users"]
    users = users[users["role"].isin(roles)]
    merged = spine[["period_type", "period_start", "period_end"]].merge(users, how="cross")
    employed = (merged["hired_on"] <= merged["period_end"]) & (
        merged["left_on"].isna() | (merged["left_on"] >= merged["period_start"])
    )
    return merged.loc[employed, ["period_type", "period_start", "user_id"]]


def breakdown_names(raw: Raw) -> pd.DataFrame:
    """breakdown, breakdown_id, breakdown_name for company, reps, teams, team managers, unassigned."""
    users = raw["users"][["user_id", "full_name"]]
    teams = raw["teams"]
    managers = users[users["user_id"].isin(teams["manager_user_id"].dropna())]
    return pd.concat(
        [
            pd.DataFrame({"breakdown": ["company"], "breakdown_id": ["all"], "breakdown_name": ["Company"]}),
            pd.DataFrame({"breakdown": "rep", "breakdown_id": users["user_id"], "breakdown_name": users["full_name"]}),
            pd.DataFrame({"breakdown": "team", "breakdown_id": teams["team_id"], "breakdown_name": teams["team_name"]}),
            pd.DataFrame(
                {"breakdown": "manager", "breakdown_id": managers["user_id"], "breakdown_name": managers["full_name"]}
            ),
            pd.DataFrame(
                {
                    "breakdown": ["team", "manager"],
                    "breakdown_id": [UNASSIGNED] * 2,
                    "breakdown_name": ["Unassigned"] * 2,
                }
            ),
        ],
        ignore_index=True,
    )


def standing_rows(raw: Raw, spine: pd.DataFrame) -> pd.DataFrame:
    """The rows a leaderboard needs at zero: company, every team and team manager (a user) in every period, and
    every closer employed during the period."""
    names = breakdown_names(raw)
    standing = names[names["breakdown"].isin(["company", "team", "manager"]) & (names["breakdown_id"] != UNASSIGNED)]
    keys = spine[["period_type", "period_start"]].merge(standing[["breakdown", "breakdown_id"]], how="cross")
    reps = employed_closers(raw, spine).rename(columns={"user_id": "breakdown_id"}).assign(breakdown="rep")
    return pd.concat([keys, reps], ignore_index=True)


def aggregate_breakdowns(
    facts: pd.DataFrame, breakdowns: dict[str, str], sums: list[str], extra: dict[str, tuple[str, str]] | None = None
) -> pd.DataFrame:
    """One row per period and breakdown value: the sums (and extra named aggregations) of the facts."""
    frames = []
    for breakdown, key in breakdowns.items():
        keyed = facts.assign(breakdown=breakdown, breakdown_id="all" if key == "all" else facts[key])
        aggregations: dict[str, tuple[str, str]] = {column: (column, "sum") for column in sums}
        aggregations.update(extra or {})
        frames.append(
            keyed.groupby(["period_type", "period_start", "breakdown", "breakdown_id"], as_index=False).agg(
                **aggregations
            )
        )
    return pd.concat(frames, ignore_index=True)


def with_spine(
    measured: pd.DataFrame, spine_keys: pd.DataFrame, spine: pd.DataFrame, names: pd.DataFrame
) -> pd.DataFrame:
    """The measured rows and the standing zero rows, with period_end and the breakdown name."""
    keys = pd.concat(
        [spine_keys, measured[["period_type", "period_start", "breakdown", "breakdown_id"]]], ignore_index=True
    ).drop_duplicates()
    rows = keys.merge(measured, on=["period_type", "period_start", "breakdown", "breakdown_id"], how="left")
    rows = rows.merge(
        spine[["period_type", "period_start", "period_end", "snapshot_date"]], on=["period_type", "period_start"]
    )
    return rows.merge(
        names.drop_duplicates(["breakdown", "breakdown_id"]), on=["breakdown", "breakdown_id"], how="left"
    )


def as_counts(frame: pd.DataFrame, columns: list[str]) -> None:
    for column in columns:
        frame[column] = frame[column].fillna(0).astype("int64")


def as_money(frame: pd.DataFrame, columns: list[str]) -> None:
    for column in columns:
        frame[column] = round_money(frame[column].fillna(0.0).astype(float))


# --------------------------------------------------------------------------------------------------
# S1, S2: bookings, recognised revenue and growth per ISO week, month and quarter
# --------------------------------------------------------------------------------------------------

REVENUE_BY_PERIOD_COLUMNS = [
    "period_type",
    "period_start",
    "period_end",
    "bookings",
    "won_deals",
    "previous_period_bookings",
    "bookings_growth",
    "year_ago_bookings",
    "bookings_growth_yoy",
    "paid_invoices",
    "refunds",
    "recognised_revenue",
    "previous_period_recognised_revenue",
    "recognised_revenue_growth",
    "year_ago_recognised_revenue",
    "recognised_revenue_growth_yoy",
]


def _sum_per_period(frame: pd.DataFrame, day: str, value: str, spine: pd.DataFrame, name: str) -> pd.DataFrame:
    placed = in_periods(frame[[day, value]], day, spine)
    return placed.groupby(["period_type", "period_start"], as_index=False).agg(**{name: (value, "sum")})


@mart("kpi_revenue_by_period")
def revenue_by_period(raw: Raw, as_of: date) -> pd.DataFrame:
    """kpi_revenue_by_period: bookings by close date; paid invoices net of refunds; growth on the previous and
    the year-ago period of the same type (null without one, after a zero, and after negative revenue)."""
    spine = periods(raw, as_of)
    keys = ["period_type", "period_start"]
    won = won_deals(raw, as_of).assign(deal=1)
    entries = revenue_entries(raw, as_of)
    rows = spine
    for frame, day, value, name in [
        (won, "close_date", "amount", "bookings"),
        (won, "close_date", "deal", "won_deals"),
        (entries, "booked_on", "paid_amount", "paid_invoices"),
        (entries, "booked_on", "refunded_amount", "refunds"),
        (entries, "booked_on", "recognised_amount", "recognised_revenue"),
    ]:
        rows = rows.merge(_sum_per_period(frame, day, value, spine, name), on=keys, how="left")
    as_money(rows, ["bookings", "paid_invoices", "refunds", "recognised_revenue"])
    as_counts(rows, ["won_deals"])
    by_start = rows.set_index(keys)
    for prefix, start in [("previous_period", "previous_period_start"), ("year_ago", "year_ago_period_start")]:
        index = pd.MultiIndex.from_arrays([rows["period_type"], rows[start]])
        rows[f"{prefix}_bookings"] = by_start["bookings"].reindex(index).to_numpy()
        rows[f"{prefix}_recognised_revenue"] = by_start["recognised_revenue"].reindex(index).to_numpy()
    positive = {
        name: rows[name].where(rows[name] > 0)
        for name in ["previous_period_recognised_revenue", "year_ago_recognised_revenue"]
    }
    rows = rows.assign(
        bookings_growth=safe_ratio(
            rows["bookings"] - rows["previous_period_bookings"], rows["previous_period_bookings"]
        ),
        bookings_growth_yoy=safe_ratio(rows["bookings"] - rows["year_ago_bookings"], rows["year_ago_bookings"]),
        recognised_revenue_growth=safe_ratio(
            rows["recognised_revenue"] - rows["previous_period_recognised_revenue"],
            positive["previous_period_recognised_revenue"],
        ),
        recognised_revenue_growth_yoy=safe_ratio(
            rows["recognised_revenue"] - rows["year_ago_recognised_revenue"], positive["year_ago_recognised_revenue"]
        ),
    )
    return rows[REVENUE_BY_PERIOD_COLUMNS].sort_values(keys).reset_index(drop=True)


# --------------------------------------------------------------------------------------------------
# S8: pipeline at every period end, and its waterfall
# --------------------------------------------------------------------------------------------------

PIPELINE_COLUMNS = [
    "period_type",
    "period_start",
    "period_end",
    "snapshot_date",
    "breakdown",
    "breakdown_id",
    "breakdown_name",
    "open_deals",
    "open_value",
    "weighted_open_value",
    "open_value_closing_next_period",
    "weighted_value_closing_next_period",
    "created_deals",
    "created_value",
]


def next_period_bounds(snapshots: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """The first and last day of the period after each row's period (same type)."""
    start = snapshots["period_end"] + pd.Timedelta(days=1)
    end = pd.Series(pd.NaT, index=snapshots.index, dtype="datetime64[ns]")
    types = snapshots["period_type"]
    end[types == "week"] = snapshots["period_end"] + pd.Timedelta(days=7)
    end[types == "month"] = start + pd.offsets.MonthEnd(0)
    end[types == "quarter"] = start + pd.offsets.QuarterEnd(0)
    return start, end


def pipeline_snapshots(raw: Raw, as_of: date, types: tuple[str, ...] = PERIOD_TYPES) -> pd.DataFrame:
    """The deals open at each period's snapshot date, as the stage history shows them that day."""
    spine = periods(raw, as_of, types)
    snapshots = open_on(opportunity_states(raw, as_of), spine, "snapshot_date").reset_index(drop=True)
    start, end = next_period_bounds(snapshots)
    teams = credited_teams(raw, as_of, snapshots["owner_user_id"], snapshots["snapshot_date"])
    return snapshots.assign(
        weighted_amount=snapshots["amount"] * snapshots["stage_probability"],
        is_closing_next_period=(snapshots["close_date"] >= start) & (snapshots["close_date"] <= end),
        team_id=teams["team_id"],
        manager_user_id=teams["manager_user_id"],
    )


@mart("kpi_pipeline_by_period")
def pipeline_by_period(raw: Raw, as_of: date) -> pd.DataFrame:
    """kpi_pipeline_by_period: open pipeline at each period end and pipeline created, by stage, rep, team, manager."""
    if opportunity_states(raw, as_of).empty:  # no stage history: no pipeline to read
        return pd.DataFrame(columns=PIPELINE_COLUMNS)
    spine = periods(raw, as_of)
    snapshots = pipeline_snapshots(raw, as_of)
    closing = snapshots["is_closing_next_period"]
    open_facts = snapshots.assign(
        open_deals=1,
        open_value=snapshots["amount"],
        weighted_open_value=snapshots["weighted_amount"],
        open_value_closing_next_period=snapshots["amount"].where(closing, 0.0),
        weighted_value_closing_next_period=snapshots["weighted_amount"].where(closing, 0.0),
        created_deals=0,
        created_value=0.0,
    )
    states = opportunity_states(raw, as_of)
    created = in_periods(states[states["state_number"] == 1], "valid_from_on", spine).reset_index(drop=True)
    created_teams = credited_teams(raw, as_of, created["owner_user_id"], created["valid_from_on"])
    created_facts = created.assign(
        team_id=created_teams["team_id"],
        manager_user_id=created_teams["manager_user_id"],
        open_deals=0,
        open_value=0.0,
        weighted_open_value=0.0,
        open_value_closing_next_period=0.0,
        weighted_value_closing_next_period=0.0,
        created_deals=1,
        created_value=created["amount"],
    )
    sums = PIPELINE_COLUMNS[7:]
    facts = pd.concat([open_facts, created_facts], ignore_index=True)
    measured = aggregate_breakdowns(
        facts,
        {"company": "all", "stage": "stage", "rep": "owner_user_id", "team": "team_id", "manager": "manager_user_id"},
        sums,
    )
    stages = raw["stages"]
    names = pd.concat(
        [
            breakdown_names(raw),
            pd.DataFrame({"breakdown": "stage", "breakdown_id": stages["stage"], "breakdown_name": stages["stage"]}),
        ],
        ignore_index=True,
    )
    open_stages = stages.loc[~is_true(stages["is_closed"]), ["stage"]].rename(columns={"stage": "breakdown_id"})
    stage_keys = spine[["period_type", "period_start"]].merge(open_stages.assign(breakdown="stage"), how="cross")
    rows = with_spine(measured, pd.concat([standing_rows(raw, spine), stage_keys], ignore_index=True), spine, names)
    as_counts(rows, ["open_deals", "created_deals"])
    as_money(rows, [column for column in sums if column not in ("open_deals", "created_deals")])
    return (
        rows[PIPELINE_COLUMNS]
        .sort_values(["period_type", "period_start", "breakdown", "breakdown_id"])
        .reset_index(drop=True)
    )


WATERFALL_COLUMNS = [
    "period_type",
    "period_start",
    "period_end",
    "open_deals_at_start",
    "open_value_at_start",
    "created_deals",
    "created_value",
    "amount_increases",
    "amount_decreases",
    "won_deals",
    "won_value",
    "lost_deals",
    "lost_value",
    "reopened_deals",
    "reopened_value",
    "open_deals_at_end",
    "open_value_at_end",
]


@mart("kpi_pipeline_waterfall")
def pipeline_waterfall(raw: Raw, as_of: date) -> pd.DataFrame:
    """kpi_pipeline_waterfall: open at start (end of the day before the period) + created + increases - decreases
    - won - lost + reopened = open at the snapshot date, each change of state one movement."""
    spine = periods(raw, as_of)
    keys = ["period_type", "period_start"]
    states = opportunity_states(raw, as_of)
    if states.empty:  # no stage history: no waterfall
        return pd.DataFrame(columns=WATERFALL_COLUMNS)
    spine = spine.assign(day_before=spine["period_start"] - pd.Timedelta(days=1))
    rows = spine.copy()
    for label, day in [("start", "day_before"), ("end", "snapshot_date")]:
        open_deals = open_on(states, spine, day)
        totals = open_deals.groupby(keys, as_index=False).agg(
            **{f"open_deals_at_{label}": ("amount", "count"), f"open_value_at_{label}": ("amount", "sum")}
        )
        rows = rows.merge(totals, on=keys, how="left")
    changes = in_periods(states, "valid_from_on", spine)
    was_open = changes["was_open"].map(lambda value: value is True)
    was_closed = changes["was_open"].map(lambda value: value is False)
    movements = {
        "created": (changes["state_number"] == 1) & changes["is_open"],
        "won": was_open & changes["is_won"],
        "lost": was_open & changes["is_lost"],
        "reopened": was_closed & changes["is_open"],
    }
    values = {
        "created": changes["amount"],
        "won": changes["previous_amount"],
        "lost": changes["previous_amount"],
        "reopened": changes["amount"],
    }
    stays_open = was_open & changes["is_open"]
    difference = changes["amount"] - changes["previous_amount"]
    moved = changes[keys].assign(
        amount_increases=difference.where(stays_open & (difference > 0), 0.0),
        amount_decreases=(-difference).where(stays_open & (difference < 0), 0.0),
        **{f"{name}_deals": mask.astype("int64") for name, mask in movements.items()},
        **{f"{name}_value": values[name].where(mask, 0.0) for name, mask in movements.items()},
    )
    rows = rows.merge(moved.groupby(keys, as_index=False).sum(), on=keys, how="left")
    as_counts(rows, [column for column in WATERFALL_COLUMNS if column.endswith("_deals") or "_deals_" in column])
    as_money(rows, [column for column in WATERFALL_COLUMNS[3:] if "value" in column or column.startswith("amount_")])
    return rows[WATERFALL_COLUMNS].sort_values(keys).reset_index(drop=True)


# --------------------------------------------------------------------------------------------------
# S4: quota attainment for reps, teams, managers and the company
# --------------------------------------------------------------------------------------------------

QUOTA_COLUMNS = [
    "period_type",
    "period_start",
    "period_end",
    "breakdown",
    "breakdown_id",
    "breakdown_name",
    "bookings",
    "won_deals",
    "quota",
    "quota_attainment",
    "reps_with_quota",
    "reps_at_or_above_quota",
    "share_of_reps_at_or_above_quota",
]


def _sum_or_null(values: pd.Series) -> float:
    return float(values.sum()) if values.notna().any() else math.nan


@mart("kpi_quota_attainment")
def quota_attainment(raw: Raw, as_of: date) -> pd.DataFrame:
    """kpi_quota_attainment: bookings / quota for reps (their own), teams (credited on the close date; own quota
    row, else the members' quotas on the month's snapshot date), managers (their teams) and the company."""
    spine = periods(raw, as_of, MONTH_QUARTER)
    keys = ["period_type", "period_start"]
    won = in_periods(won_deals(raw, as_of), "close_date", spine).reset_index(drop=True)
    won = won.join(credited_teams(raw, as_of, won["owner_user_id"], won["close_date"]))

    quotas = quota_rows(raw).assign(month=lambda frame: month_start(frame["month_start"]))
    rep_months = quotas.dropna(subset=["user_id"]).groupby(["user_id", "month"], as_index=False)["amount"].sum()
    own_months = (
        quotas[quotas["team_id"].notna() & quotas["user_id"].isna()]
        .groupby(["team_id", "month"], as_index=False)["amount"]
        .sum()
        .rename(columns={"amount": "own"})
    )
    months = spine[spine["period_type"] == "month"][["period_start", "snapshot_date"]].rename(
        columns={"period_start": "month"}
    )
    members = rep_months.merge(months, on="month").reset_index(drop=True)
    members = members.join(credited_teams(raw, as_of, members["user_id"], members["snapshot_date"]))
    member_months = (
        members.groupby(["team_id", "month"], as_index=False)["amount"].sum().rename(columns={"amount": "members"})
    )
    team_months = own_months.merge(member_months, on=["team_id", "month"], how="outer")
    team_months["quota"] = team_months["own"].where(team_months["own"].notna(), team_months["members"])
    managers = raw["teams"].set_index("team_id")["manager_user_id"]
    team_months["manager_user_id"] = lookup(team_months["team_id"], managers).fillna(UNASSIGNED)
    team_periods = in_periods(team_months, "month", spine)

    rep_quota = in_periods(rep_months, "month", spine).groupby(keys + ["user_id"], as_index=False)["amount"].sum()
    rep_quota = rep_quota.rename(columns={"amount": "quota"})
    rep_bookings = won.groupby(keys + ["owner_user_id"], as_index=False).agg(
        bookings=("amount", "sum"), won_deals=("amount", "count")
    )
    rep_bookings = rep_bookings.rename(columns={"owner_user_id": "user_id"})
    rep_keys = pd.concat(
        [employed_closers(raw, spine), rep_bookings[keys + ["user_id"]], rep_quota[keys + ["user_id"]]],
        ignore_index=True,
    ).drop_duplicates()
    reps = rep_keys.merge(rep_bookings, on=keys + ["user_id"], how="left").merge(
        rep_quota, on=keys + ["user_id"], how="left"
    )
    reps = reps.merge(spine[keys + ["snapshot_date"]], on=keys).reset_index(drop=True)
    reps = reps.join(credited_teams(raw, as_of, reps["user_id"], reps["snapshot_date"]))
    reps["bookings"] = reps["bookings"].fillna(0.0)
    reps["won_deals"] = reps["won_deals"].fillna(0)
    has_quota = reps["quota"] > 0
    reps["reps_with_quota"] = has_quota.astype("int64")
    reps["reps_at_or_above_quota"] = (has_quota & (round_money(reps["bookings"]) >= round_money(reps["quota"]))).astype(
        "int64"
    )

    pieces = pd.concat(
        [
            won.assign(
                bookings=won["amount"], won_deals=1, quota=math.nan, reps_with_quota=0, reps_at_or_above_quota=0
            ),
            team_periods.assign(bookings=0.0, won_deals=0, reps_with_quota=0, reps_at_or_above_quota=0),
            reps[reps["reps_with_quota"] == 1].assign(bookings=0.0, won_deals=0, quota=math.nan),
        ],
        ignore_index=True,
    )
    sums = ["bookings", "won_deals", "reps_with_quota", "reps_at_or_above_quota"]
    grouped = aggregate_breakdowns(
        pieces,
        {"team": "team_id", "manager": "manager_user_id", "company": "all"},
        sums,
        {"quota": ("quota", _sum_or_null)},
    )
    rep_rows = reps.assign(breakdown="rep", breakdown_id=reps["user_id"])[grouped.columns]
    measured = pd.concat([rep_rows, grouped], ignore_index=True)
    names = breakdown_names(raw)
    standing = names[names["breakdown"].isin(["company", "team", "manager"]) & (names["breakdown_id"] != UNASSIGNED)]
    standing_keys = spine[keys].merge(standing[["breakdown", "breakdown_id"]], how="cross")
    rows = with_spine(measured, standing_keys, spine.assign(snapshot_date=spine["period_end"]), names)
    as_counts(rows, ["won_deals", "reps_with_quota", "reps_at_or_above_quota"])
    rows["bookings"] = round_money(rows["bookings"].fillna(0.0))
    rows["quota"] = round_money(rows["quota"])
    rows = rows.assign(
        quota_attainment=safe_ratio(rows["bookings"], rows["quota"]),
        share_of_reps_at_or_above_quota=safe_ratio(rows["reps_at_or_above_quota"], rows["reps_with_quota"]),
    )
    return rows[QUOTA_COLUMNS].sort_values(keys + ["breakdown", "breakdown_id"]).reset_index(drop=True)


COVERAGE_COLUMNS = [
    "quarter_start",
    "quarter_end",
    "snapshot_date",
    "breakdown",
    "breakdown_id",
    "breakdown_name",
    "open_pipeline_closing_in_quarter",
    "weighted_pipeline_closing_in_quarter",
    "quarter_quota",
    "pipeline_coverage",
    "weighted_pipeline_coverage",
]
COVERAGE_BREAKDOWNS = ("company", "team", "rep")


@mart("kpi_pipeline_coverage")
def pipeline_coverage(raw: Raw, as_of: date) -> pd.DataFrame:
    """kpi_pipeline_coverage: for quarter Q, the pipeline read on the last day of the quarter before (complete
    quarters only) whose close date falls in Q, over Q's quota; company, teams, reps."""
    keys = ["quarter_start", "breakdown", "breakdown_id"]
    pipeline = pipeline_by_period(raw, as_of)
    before = pipeline[
        (pipeline["period_type"] == "quarter")
        & pipeline["breakdown"].isin(COVERAGE_BREAKDOWNS)
        & (pipeline["snapshot_date"] == pipeline["period_end"])
    ]
    before = before.assign(quarter_start=pd.to_datetime(before["period_end"]) + pd.Timedelta(days=1)).rename(
        columns={
            "open_value_closing_next_period": "open_pipeline_closing_in_quarter",
            "weighted_value_closing_next_period": "weighted_pipeline_closing_in_quarter",
        }
    )
    quarters = before[["quarter_start", "snapshot_date"]].drop_duplicates()
    quotas = quota_attainment(raw, as_of)
    quotas = quotas[(quotas["period_type"] == "quarter") & quotas["breakdown"].isin(COVERAGE_BREAKDOWNS)]
    quotas = quotas.assign(quarter_start=pd.to_datetime(quotas["period_start"]))
    quotas = quotas[quotas["quarter_start"].isin(quarters["quarter_start"])]
    value_columns = ["open_pipeline_closing_in_quarter", "weighted_pipeline_closing_in_quarter"]
    rows = before[[*keys, "breakdown_name", *value_columns]].merge(
        quotas[[*keys, "breakdown_name", "quota"]], on=keys, how="outer", suffixes=("", "_quota")
    )
    rows = rows.merge(quarters, on="quarter_start")
    rows["breakdown_name"] = rows["breakdown_name"].fillna(rows["breakdown_name_quota"])
    for column in value_columns:
        rows[column] = round_money(rows[column].fillna(0.0))
    rows["quarter_quota"] = round_money(rows["quota"])
    rows = rows.assign(
        quarter_end=rows["quarter_start"] + pd.offsets.QuarterEnd(0),
        pipeline_coverage=safe_ratio(rows["open_pipeline_closing_in_quarter"], rows["quarter_quota"]),
        weighted_pipeline_coverage=safe_ratio(rows["weighted_pipeline_closing_in_quarter"], rows["quarter_quota"]),
    )
    return rows[COVERAGE_COLUMNS].sort_values(keys).reset_index(drop=True)


# --------------------------------------------------------------------------------------------------
# F3, F4, S6, S7, F10, S12 (win rate with a competitor): who is winning and how fast
# --------------------------------------------------------------------------------------------------

WIN_RATE_COLUMNS = [
    "period_type",
    "period_start",
    "period_end",
    "breakdown",
    "breakdown_id",
    "breakdown_name",
    "worked_deals",
    "closed_deals",
    "won_deals",
    "lost_deals",
    "bookings",
    "win_rate",
    "close_ratio",
    "win_loss_ratio",
    "average_deal_size",
    "median_days_to_close",
    "mean_days_to_close",
    "won_deals_from_leads",
    "median_days_from_lead_to_close",
    "mean_days_from_lead_to_close",
    "touches",
    *[column for column, _ in ACTIVITY_TYPES],
    "touches_per_won_deal",
    *[f"{column}_per_won_deal" for column, _ in ACTIVITY_TYPES],
]


def won_deal_touches(raw: Raw, won: pd.DataFrame) -> pd.DataFrame:
    """Per won deal: the activities on it or on its source lead, on or before its close date, each once."""
    activities = raw["activities"][["activity_id", "activity_type", "opportunity_id", "lead_id", "occurred_at"]]
    deals = won[["opportunity_id", "source_lead_id", "close_date"]]
    on_deal = deals.merge(activities.drop(columns="lead_id").dropna(subset=["opportunity_id"]), on="opportunity_id")
    on_lead = deals.dropna(subset=["source_lead_id"]).merge(
        activities.drop(columns="opportunity_id").rename(columns={"lead_id": "source_lead_id"}), on="source_lead_id"
    )
    touched = pd.concat([on_deal, on_lead], ignore_index=True)
    touched = touched[touched["occurred_at"].dt.normalize() <= touched["close_date"]]
    touched = touched.drop_duplicates(["opportunity_id", "activity_id"])
    counts = touched.groupby("opportunity_id").agg(touches=("activity_id", "count"))
    for column, activity_type in ACTIVITY_TYPES:
        counts[column] = (
            touched[touched["activity_type"] == activity_type].groupby("opportunity_id")["activity_id"].count()
        )
    return counts.fillna(0)


@mart("kpi_win_rate_and_cycle")
def win_rate_and_cycle(raw: Raw, as_of: date) -> pd.DataFrame:
    """kpi_win_rate_and_cycle: deals worked (open at some moment of the period per the stage history, or closed
    in it), closed, won and lost, cycle and touches, by company, rep, team, manager, region, type, competitor."""
    spine = periods(raw, as_of, MONTH_QUARTER)
    keys = ["period_type", "period_start"]
    deals = opportunities_in_scope(raw, as_of)
    closed = (deals["is_closed"] | deals["is_won"]) & (deals["close_date"] <= pd.Timestamp(as_of))
    deals = deals.assign(is_closed_by_as_of=closed, is_won_by_as_of=closed & deals["is_won"])
    states = opportunity_states(raw, as_of)
    open_states = states[states["is_open"]].merge(spine, how="cross")
    overlapping = (open_states["valid_from_on"] <= open_states["period_end"]) & (
        open_states["valid_to_on"].isna() | (open_states["valid_to_on"] >= open_states["period_start"])
    )
    worked_open = open_states.loc[overlapping, keys + ["opportunity_id"]]
    closed_in = in_periods(deals[deals["is_closed_by_as_of"]][["opportunity_id", "close_date"]], "close_date", spine)
    worked = pd.concat([worked_open, closed_in[keys + ["opportunity_id"]]], ignore_index=True).drop_duplicates()
    worked = worked.merge(spine, on=keys).merge(deals, on="opportunity_id").reset_index(drop=True)

    in_period = (
        worked["is_closed_by_as_of"]
        & (worked["close_date"] >= worked["period_start"])
        & (worked["close_date"] <= worked["period_end"])
    )
    won = in_period & worked["is_won_by_as_of"]
    credit_day = worked["close_date"].where(in_period, worked["snapshot_date"])
    teams = credited_teams(raw, as_of, worked["owner_user_id"], credit_day)
    regions = raw["accounts"].set_index("account_id")["region"]
    lead_created = raw["leads"].set_index("lead_id")["created_at"].dt.normalize()
    created_day = worked["created_at"].dt.normalize()
    touches = won_deal_touches(raw, deals[deals["is_won_by_as_of"]])
    touch_columns = ["touches", *[column for column, _ in ACTIVITY_TYPES]]
    facts = worked.assign(
        team_id=teams["team_id"],
        manager_user_id=teams["manager_user_id"],
        region=lookup(worked["account_id"], regions).fillna("unknown"),
        competitor_key=worked["competitor_id"].fillna("none"),
        competitor_presence=worked["competitor_id"].notna().map({True: "with_competitor", False: "without_competitor"}),
        worked_deals=1,
        closed_deals=in_period.astype("int64"),
        won_deals=won.astype("int64"),
        lost_deals=(in_period & ~worked["is_won_by_as_of"]).astype("int64"),
        bookings=worked["amount"].where(won, 0.0),
        days_to_close=(worked["close_date"] - created_day).dt.days.where(won),
        days_from_lead_to_close=(worked["close_date"] - lookup(worked["source_lead_id"], lead_created)).dt.days.where(
            won
        ),
    )
    for column in touch_columns:
        facts[column] = lookup(facts["opportunity_id"], touches[column].astype(float)).fillna(0.0).where(won, 0.0)
    measured = aggregate_breakdowns(
        facts,
        {
            "company": "all",
            "rep": "owner_user_id",
            "team": "team_id",
            "manager": "manager_user_id",
            "region": "region",
            "opportunity_type": "opportunity_type",
            "competitor": "competitor_key",
            "competitor_presence": "competitor_presence",
        },
        ["worked_deals", "closed_deals", "won_deals", "lost_deals", "bookings", *touch_columns],
        {
            "median_days_to_close": ("days_to_close", "median"),
            "mean_days_to_close": ("days_to_close", "mean"),
            "won_deals_from_leads": ("days_from_lead_to_close", "count"),
            "median_days_from_lead_to_close": ("days_from_lead_to_close", "median"),
            "mean_days_from_lead_to_close": ("days_from_lead_to_close", "mean"),
        },
    )
    seen = measured.loc[
        measured["breakdown"].isin(["region", "opportunity_type", "competitor", "competitor_presence"]),
        ["breakdown", "breakdown_id"],
    ].drop_duplicates()
    competitors = raw["competitors"]
    names = pd.concat(
        [
            breakdown_names(raw),
            pd.DataFrame(
                {
                    "breakdown": "competitor",
                    "breakdown_id": competitors["competitor_id"],
                    "breakdown_name": competitors["competitor_name"],
                }
            ),
            pd.DataFrame({"breakdown": ["competitor"], "breakdown_id": ["none"], "breakdown_name": ["No competitor"]}),
            seen[seen["breakdown"] != "competitor"].assign(breakdown_name=lambda frame: frame["breakdown_id"]),
        ],
        ignore_index=True,
    )
    spine_keys = pd.concat([standing_rows(raw, spine), spine[keys].merge(seen, how="cross")], ignore_index=True)
    rows = with_spine(measured, spine_keys, spine, names)
    as_counts(rows, ["worked_deals", "closed_deals", "won_deals", "lost_deals", "won_deals_from_leads", *touch_columns])
    as_money(rows, ["bookings"])
    rows = rows.assign(
        win_rate=safe_ratio(rows["won_deals"], rows["closed_deals"]),
        close_ratio=safe_ratio(rows["won_deals"], rows["worked_deals"]),
        win_loss_ratio=safe_ratio(rows["won_deals"], rows["lost_deals"]),
        average_deal_size=safe_ratio(rows["bookings"], rows["won_deals"]),
        touches_per_won_deal=safe_ratio(rows["touches"], rows["won_deals"]),
        **{f"{column}_per_won_deal": safe_ratio(rows[column], rows["won_deals"]) for column, _ in ACTIVITY_TYPES},
    )
    return rows[WIN_RATE_COLUMNS].sort_values(keys + ["breakdown", "breakdown_id"]).reset_index(drop=True)


# --------------------------------------------------------------------------------------------------
# Line items: S5 margin, S9 location, S10 upsell / cross-sell, S12 price index
# --------------------------------------------------------------------------------------------------


def priced_line_items(raw: Raw, as_of: date) -> pd.DataFrame:
    """Line items of opportunities in scope whose product is staged: revenue = quantity x unit price x (1 -
    discount) at the deal's rate (its created date); cost = quantity x the product's unit cost; both to the
    cent on each line."""
    deals = opportunities_in_scope(raw, as_of)
    deals = deals.assign(rate=deal_rates(raw, deals))[["opportunity_id", "rate"]]
    products = raw["products"][["product_id", "product_name", "family", "tier", "unit_cost"]]
    lines = raw["opportunity_line_items"].merge(deals, on="opportunity_id").merge(products, on="product_id")
    return lines.assign(
        revenue=round_money(lines["quantity"] * lines["unit_price"] * (1 - lines["discount"]) * lines["rate"]),
        cost_of_goods=round_money(lines["quantity"] * lines["unit_cost"]),
    )


GROSS_MARGIN_COLUMNS = [
    "period_type",
    "period_start",
    "period_end",
    "breakdown",
    "breakdown_id",
    "breakdown_name",
    "won_deals",
    "units",
    "revenue",
    "cost_of_goods",
    "gross_profit",
    "gross_margin",
    "won_deals_without_line_items",
    "bookings_without_line_items",
]


@mart("kpi_gross_margin")
def gross_margin(raw: Raw, as_of: date) -> pd.DataFrame:
    """kpi_gross_margin: line-item revenue, cost and margin of won deals per company, rep, product, family;
    won deals without line items counted apart (company and rep rows)."""
    spine = periods(raw, as_of, MONTH_QUARTER)
    keys = ["period_type", "period_start"]
    lines = priced_line_items(raw, as_of)
    won = in_periods(won_deals(raw, as_of), "close_date", spine)
    with_lines = won[won["opportunity_id"].isin(lines["opportunity_id"])]
    without = won[~won["opportunity_id"].isin(lines["opportunity_id"])]
    sold = with_lines[keys + ["opportunity_id", "owner_user_id"]].merge(lines, on="opportunity_id")
    frames = []
    for breakdown, key in [
        ("company", None),
        ("rep", "owner_user_id"),
        ("product", "product_id"),
        ("product_family", "family"),
    ]:
        keyed = sold.assign(breakdown=breakdown, breakdown_id="all" if key is None else sold[key])
        group = keyed.groupby(keys + ["breakdown", "breakdown_id"], as_index=False).agg(
            won_deals=("opportunity_id", "nunique"),
            units=("quantity", "sum"),
            revenue=("revenue", "sum"),
            cost_of_goods=("cost_of_goods", "sum"),
        )
        if breakdown in ("company", "rep"):
            apart = without.assign(breakdown=breakdown, breakdown_id="all" if key is None else without[key])
            apart_sums = apart.groupby(keys + ["breakdown", "breakdown_id"], as_index=False).agg(
                won_deals_without_line_items=("opportunity_id", "nunique"),
                bookings_without_line_items=("amount", "sum"),
            )
            group = group.merge(apart_sums, on=keys + ["breakdown", "breakdown_id"], how="outer")
        frames.append(group)
    measured = pd.concat(frames, ignore_index=True)
    products = raw["products"]
    names = pd.concat(
        [
            breakdown_names(raw),
            pd.DataFrame(
                {
                    "breakdown": "product",
                    "breakdown_id": products["product_id"],
                    "breakdown_name": products["product_name"],
                }
            ),
            pd.DataFrame(
                {
                    "breakdown": "product_family",
                    "breakdown_id": products["family"],
                    "breakdown_name": products["family"],
                }
            ),
        ],
        ignore_index=True,
    )
    catalogue = pd.concat(
        [
            pd.DataFrame({"breakdown": ["company"], "breakdown_id": ["all"]}),
            pd.DataFrame({"breakdown": "product", "breakdown_id": products["product_id"]}),
            pd.DataFrame({"breakdown": "product_family", "breakdown_id": products["family"]}).drop_duplicates(),
        ],
        ignore_index=True,
    )
    reps = employed_closers(raw, spine).rename(columns={"user_id": "breakdown_id"}).assign(breakdown="rep")
    spine_keys = pd.concat([spine[keys].merge(catalogue, how="cross"), reps], ignore_index=True)
    rows = with_spine(measured, spine_keys, spine, names)
    as_counts(rows, ["won_deals", "units"])
    as_money(rows, ["revenue", "cost_of_goods"])
    on_deals = rows["breakdown"].isin(["company", "rep"])
    rows["won_deals_without_line_items"] = rows["won_deals_without_line_items"].fillna(0).where(on_deals)
    rows["bookings_without_line_items"] = round_money(rows["bookings_without_line_items"].fillna(0.0)).where(on_deals)
    rows["gross_profit"] = round_money(rows["revenue"] - rows["cost_of_goods"])
    rows["gross_margin"] = safe_ratio(rows["gross_profit"], rows["revenue"])
    return rows[GROSS_MARGIN_COLUMNS].sort_values(keys + ["breakdown", "breakdown_id"]).reset_index(drop=True)


LOCATION_COLUMNS = ["period_type", "period_start", "period_end", "region", "country", "bookings", "won_deals", "units"]


@mart("kpi_bookings_by_location")
def bookings_by_location(raw: Raw, as_of: date) -> pd.DataFrame:
    """kpi_bookings_by_location: won deals' bookings and units by the account's region and country."""
    spine = periods(raw, as_of, MONTH_QUARTER)
    keys = ["period_type", "period_start"]
    accounts = raw["accounts"].set_index("account_id")
    units = priced_line_items(raw, as_of).groupby("opportunity_id")["quantity"].sum()
    won = in_periods(won_deals(raw, as_of), "close_date", spine)
    won = won.assign(
        region=lookup(won["account_id"], accounts["region"]).fillna("unknown"),
        country=lookup(won["account_id"], accounts["country"]).fillna("unknown"),
        units=lookup(won["opportunity_id"], units).fillna(0),
    )
    measured = won.groupby(keys + ["region", "country"], as_index=False).agg(
        bookings=("amount", "sum"), won_deals=("amount", "count"), units=("units", "sum")
    )
    locations = pd.concat(
        [
            raw["accounts"][["region", "country"]].fillna("unknown"),
            won[["region", "country"]],
        ],
        ignore_index=True,
    ).drop_duplicates()
    rows = spine[keys + ["period_end"]].merge(locations, how="cross")
    rows = rows.merge(measured, on=keys + ["region", "country"], how="left")
    as_counts(rows, ["won_deals", "units"])
    as_money(rows, ["bookings"])
    return rows[LOCATION_COLUMNS].sort_values(keys + ["region", "country"]).reset_index(drop=True)


UPSELL_COLUMNS = [
    "period_type",
    "period_start",
    "period_end",
    "breakdown",
    "breakdown_id",
    "breakdown_name",
    "existing_customers",
    "upsell_customers",
    "cross_sell_customers",
    "upsell_rate",
    "cross_sell_rate",
]


@mart("kpi_upsell_cross_sell")
def upsell_cross_sell(raw: Raw, as_of: date) -> pd.DataFrame:
    """kpi_upsell_cross_sell: among customers from before the period, those who won in it a higher tier of a
    family they owned (upsell) or a family they owned nothing of (cross-sell); per account owner."""
    spine = periods(raw, as_of, MONTH_QUARTER)
    keys = ["period_type", "period_start"]
    if priced_line_items(raw, as_of).empty:  # no line items: what a customer bought is unknown
        return pd.DataFrame(columns=UPSELL_COLUMNS)
    won = won_deals(raw, as_of)
    lines = priced_line_items(raw, as_of).merge(
        won[["opportunity_id", "account_id", "close_date"]], on="opportunity_id"
    )
    subscriptions = raw["subscriptions"].merge(raw["products"][["product_id", "family", "tier"]], on="product_id")
    bought = pd.concat(
        [
            lines[["account_id", "family", "tier", "close_date"]].rename(columns={"close_date": "on"}),
            subscriptions[["account_id", "family", "tier", "period_start"]].rename(columns={"period_start": "on"}),
        ],
        ignore_index=True,
    )
    since = (
        pd.concat(
            [
                won[["account_id", "close_date"]].rename(columns={"close_date": "on"}),
                subscriptions[["account_id", "period_start"]].rename(columns={"period_start": "on"}),
            ],
            ignore_index=True,
        )
        .groupby("account_id")["on"]
        .min()
    )
    existing = spine[keys].merge(since.rename("since").reset_index(), how="cross")
    existing = existing[existing["since"] < existing["period_start"]]
    in_period = in_periods(lines[["account_id", "family", "tier", "close_date"]], "close_date", spine)
    compared = in_period.merge(
        bought.rename(columns={"tier": "owned_tier", "on": "owned_on"}), on=["account_id", "family"], how="left"
    )
    compared = compared[compared["owned_on"].isna() | (compared["owned_on"] < compared["period_start"])]
    owned = compared.groupby(keys + ["account_id", "family", "tier"], as_index=False)["owned_tier"].max()
    # families bought in the period that the account did not own at all before it
    purchases = in_period[keys + ["account_id", "family", "tier"]].drop_duplicates()
    purchases = purchases.merge(owned, on=keys + ["account_id", "family", "tier"], how="left")
    purchases = purchases.assign(
        is_upsell=(purchases["tier"] > purchases["owned_tier"]).astype("int64"),
        is_cross_sell=purchases["owned_tier"].isna().astype("int64"),
    )
    per_account = purchases.groupby(keys + ["account_id"], as_index=False)[["is_upsell", "is_cross_sell"]].max()
    accounts = existing.merge(per_account, on=keys + ["account_id"], how="left")
    owners = raw["accounts"].set_index("account_id")["owner_user_id"]
    accounts = accounts.assign(
        owner_user_id=lookup(accounts["account_id"], owners).fillna(UNASSIGNED),
        existing_customers=1,
        upsell_customers=accounts["is_upsell"].fillna(0),
        cross_sell_customers=accounts["is_cross_sell"].fillna(0),
    )
    measured = aggregate_breakdowns(
        accounts,
        {"company": "all", "rep": "owner_user_id"},
        ["existing_customers", "upsell_customers", "cross_sell_customers"],
    )
    users = raw["users"]
    names = pd.concat(
        [
            pd.DataFrame(
                {
                    "breakdown": ["company", "rep"],
                    "breakdown_id": ["all", UNASSIGNED],
                    "breakdown_name": ["Company", "Unassigned"],
                }
            ),
            pd.DataFrame({"breakdown": "rep", "breakdown_id": users["user_id"], "breakdown_name": users["full_name"]}),
        ],
        ignore_index=True,
    )
    reps = employed_closers(raw, spine).rename(columns={"user_id": "breakdown_id"}).assign(breakdown="rep")
    spine_keys = pd.concat([spine[keys].assign(breakdown="company", breakdown_id="all"), reps], ignore_index=True)
    rows = with_spine(measured, spine_keys, spine, names)
    as_counts(rows, ["existing_customers", "upsell_customers", "cross_sell_customers"])
    rows = rows.assign(
        upsell_rate=safe_ratio(rows["upsell_customers"], rows["existing_customers"]),
        cross_sell_rate=safe_ratio(rows["cross_sell_customers"], rows["existing_customers"]),
    )
    return rows[UPSELL_COLUMNS].sort_values(keys + ["breakdown", "breakdown_id"]).reset_index(drop=True)


PRICE_INDEX_COLUMNS = [
    "period_type",
    "period_start",
    "period_end",
    "product_id",
    "product_name",
    "family",
    "units_sold",
    "revenue",
    "our_average_selling_price",
    "competitor_observations",
    "competitor_average_price",
    "price_index",
]


@mart("kpi_competitor_price_index")
def competitor_price_index(raw: Raw, as_of: date) -> pd.DataFrame:
    """kpi_competitor_price_index: our net price per unit on won deals / the competitors' mean observed price."""
    spine = periods(raw, as_of, MONTH_QUARTER)
    keys = ["period_type", "period_start"]
    won = won_deals(raw, as_of)[["opportunity_id", "close_date"]]
    lines = priced_line_items(raw, as_of).merge(won, on="opportunity_id")
    sold = (
        in_periods(lines, "close_date", spine)
        .groupby(keys + ["product_id"], as_index=False)
        .agg(units_sold=("quantity", "sum"), revenue=("revenue", "sum"))
    )
    observed = in_periods(raw["competitor_prices"], "observed_on", spine, end_column="snapshot_date")
    observed = observed.groupby(keys + ["product_id"], as_index=False).agg(
        competitor_observations=("price", "count"), competitor_average_price=("price", "mean")
    )
    products = raw["products"][["product_id", "product_name", "family"]]
    product_keys = pd.concat(
        [
            spine[keys].merge(products[["product_id"]], how="cross"),
            sold[keys + ["product_id"]],
            observed[keys + ["product_id"]],
        ],
        ignore_index=True,
    ).drop_duplicates()
    rows = product_keys.merge(spine[keys + ["period_end"]], on=keys).merge(products, on="product_id", how="left")
    rows = rows.merge(sold, on=keys + ["product_id"], how="left").merge(observed, on=keys + ["product_id"], how="left")
    as_counts(rows, ["units_sold", "competitor_observations"])
    as_money(rows, ["revenue"])
    rows["our_average_selling_price"] = safe_ratio(rows["revenue"], rows["units_sold"])
    rows["price_index"] = safe_ratio(rows["our_average_selling_price"], rows["competitor_average_price"])
    return rows[PRICE_INDEX_COLUMNS].sort_values(keys + ["product_id"]).reset_index(drop=True)


# --------------------------------------------------------------------------------------------------
# S11 rep activity, F12 opportunity score, M6 marketing-sourced pipeline
# --------------------------------------------------------------------------------------------------

REP_ACTIVITY_COLUMNS = [
    "period_type",
    "period_start",
    "period_end",
    "user_id",
    "rep_name",
    "role",
    "team_id",
    *[column for column, _ in ACTIVITY_TYPES],
    "activities",
    "opportunities_sourced",
    "opportunities_created",
    "deals_won",
]


@mart("kpi_rep_activity")
def rep_activity(raw: Raw, as_of: date) -> pd.DataFrame:
    """kpi_rep_activity: activities logged per user and type; opportunities sourced (owner of the source lead),
    created and won (owner), per ISO week, month and quarter; every employed rep (sdr, bdr, ae, am) at zero."""
    spine = periods(raw, as_of)
    keys = ["period_type", "period_start"]
    end = end_of_day(as_of)
    activities = raw["activities"]
    activities = activities[activities["occurred_at"] < end]
    deals = opportunities_in_scope(raw, as_of)
    leads = raw["leads"]
    lead_owners = leads[leads["created_at"] < end].set_index("lead_id")["owner_user_id"]
    sourced = deals.assign(user_id=lookup(deals["source_lead_id"], lead_owners)).dropna(subset=["user_id"])
    events = pd.concat(
        [
            pd.DataFrame(
                {
                    "user_id": activities["user_id"],
                    "day": activities["occurred_at"].dt.normalize(),
                    "event": activities["activity_type"],
                }
            ),
            pd.DataFrame(
                {
                    "user_id": sourced["user_id"],
                    "day": sourced["created_at"].dt.normalize(),
                    "event": "opportunities_sourced",
                }
            ),
            pd.DataFrame(
                {
                    "user_id": deals["owner_user_id"],
                    "day": deals["created_at"].dt.normalize(),
                    "event": "opportunities_created",
                }
            ),
        ],
        ignore_index=True,
    )
    won = won_deals(raw, as_of)
    events = pd.concat(
        [events, pd.DataFrame({"user_id": won["owner_user_id"], "day": won["close_date"], "event": "deals_won"})],
        ignore_index=True,
    )
    placed = in_periods(events, "day", spine)
    counts = placed.groupby(keys + ["user_id", "event"]).size().unstack("event", fill_value=0).reset_index()
    rename = {activity_type: column for column, activity_type in ACTIVITY_TYPES}
    counts = counts.rename(columns=rename)
    user_keys = pd.concat(
        [employed_closers(raw, spine, ("sdr", "bdr", "ae", "am")), counts[keys + ["user_id"]]], ignore_index=True
    ).drop_duplicates()
    rows = user_keys.merge(counts, on=keys + ["user_id"], how="left").merge(spine, on=keys)
    users = raw["users"].set_index("user_id")
    rows = rows.reset_index(drop=True)
    rows["rep_name"] = lookup(rows["user_id"], users["full_name"])
    rows["role"] = lookup(rows["user_id"], users["role"])
    rows["team_id"] = teams_on(raw, as_of, rows["user_id"], rows["snapshot_date"])["team_id"]
    measures = [column for column, _ in ACTIVITY_TYPES] + [
        "opportunities_sourced",
        "opportunities_created",
        "deals_won",
    ]
    for column in measures:
        if column not in rows:
            rows[column] = 0
    as_counts(rows, measures)
    rows["activities"] = rows[[column for column, _ in ACTIVITY_TYPES]].sum(axis=1).astype("int64")
    return rows[REP_ACTIVITY_COLUMNS].sort_values(keys + ["user_id"]).reset_index(drop=True)


SCORE_FACTORS = ("stage", "amount", "age", "activity", "fit")
# The documented defaults of the dbt vars opportunity_score_weights and opportunity_score_stale_after_days.
SCORE_WEIGHTS = {"stage": 0.35, "amount": 0.15, "age": 0.2, "activity": 0.2, "fit": 0.1}
SCORE_STALE_AFTER_DAYS = 30
SCORE_COLUMNS = [
    "opportunity_id",
    "as_of_date",
    "owner_user_id",
    "account_id",
    "opportunity_type",
    "stage",
    "amount",
    "close_date",
    "account_industry",
    "age_days",
    "typical_cycle_days",
    "typical_amount",
    "days_since_last_activity",
    *[f"{factor}_factor" for factor in SCORE_FACTORS],
    *[f"{factor}_part" for factor in SCORE_FACTORS],
    "score_points",
    "opportunity_score",
]


@mart("kpi_opportunity_scores")
def opportunity_scores(raw: Raw, as_of: date) -> pd.DataFrame:
    """kpi_opportunity_scores: the deals open at the end of the as-of date, five factors in [0, 1], their parts
    (factor x normalised weight) and the 1-5 score (whole fifths of the points)."""
    as_of_ts = pd.Timestamp(as_of)
    states = opportunity_states(raw, as_of)
    open_deals = open_on(states, pd.DataFrame({"day": [as_of_ts]}), "day").reset_index(drop=True)
    deals = opportunities_in_scope(raw, as_of)
    industries = raw["accounts"].set_index("account_id")["industry"]
    deals = deals.assign(
        industry=lookup(deals["account_id"], industries),
        days_to_close=(deals["close_date"] - deals["created_at"].dt.normalize()).dt.days,
    )
    closed = deals[(deals["is_closed"] | deals["is_won"]) & (deals["close_date"] <= as_of_ts)]
    won = closed[closed["is_won"]]
    typical_cycle = won.groupby("opportunity_type")["days_to_close"].median()
    typical_amount = won.groupby("opportunity_type")["amount"].median()
    industry_rate = closed.dropna(subset=["industry"]).groupby("industry")["is_won"].mean()
    overall_rate = float(closed["is_won"].mean()) if len(closed) else 0.5
    activities = raw["activities"]
    activities = activities[activities["occurred_at"] < end_of_day(as_of)]
    on_deal = open_deals[["opportunity_id"]].merge(activities[["opportunity_id", "occurred_at"]], on="opportunity_id")
    on_lead = (
        open_deals[["opportunity_id", "source_lead_id"]]
        .dropna(subset=["source_lead_id"])
        .merge(
            activities[["lead_id", "occurred_at"]].rename(columns={"lead_id": "source_lead_id"}), on="source_lead_id"
        )
    )
    last_activity = (
        pd.concat([on_deal, on_lead], ignore_index=True).groupby("opportunity_id")["occurred_at"].max().dt.normalize()
    )

    created = lookup(open_deals["opportunity_id"], deals.set_index("opportunity_id")["created_at"]).dt.normalize()
    rows = open_deals.assign(
        as_of_date=as_of_ts,
        account_industry=lookup(open_deals["opportunity_id"], deals.set_index("opportunity_id")["industry"]),
        age_days=(as_of_ts - created).dt.days,
        typical_cycle_days=lookup(open_deals["opportunity_type"], typical_cycle).astype(float),
        typical_amount=lookup(open_deals["opportunity_type"], typical_amount).astype(float),
        days_since_last_activity=(as_of_ts - lookup(open_deals["opportunity_id"], last_activity)).dt.days,
    )
    cycle = rows["typical_cycle_days"]
    typical = rows["typical_amount"]
    rows["stage_factor"] = rows["stage_probability"]
    rows["amount_factor"] = (rows["amount"] / typical).clip(upper=1.0).where(typical > 0, 0.5)
    rows["age_factor"] = (2 - rows["age_days"] / cycle).clip(lower=0.0, upper=1.0).where(cycle > 0, 0.5)
    rows["activity_factor"] = (
        (1 - rows["days_since_last_activity"] / SCORE_STALE_AFTER_DAYS).clip(lower=0.0).fillna(0.0)
    )
    rows["fit_factor"] = lookup(rows["account_industry"].fillna(""), industry_rate).astype(float).fillna(overall_rate)
    total = sum(SCORE_WEIGHTS.values())
    for factor in SCORE_FACTORS:
        rows[f"{factor}_part"] = rows[f"{factor}_factor"].astype(float) * round(SCORE_WEIGHTS[factor] / total, 12)
    rows["score_points"] = rows[[f"{factor}_part" for factor in SCORE_FACTORS]].sum(axis=1).round(12)
    rows["opportunity_score"] = (1 + (rows["score_points"] * 5 + 1e-9).map(math.floor)).clip(upper=5).astype("int64")
    rows["age_days"] = rows["age_days"].astype("int64")
    rows["amount"] = round_money(rows["amount"])
    return rows[SCORE_COLUMNS].sort_values("opportunity_id").reset_index(drop=True)


SOURCED_PIPELINE_COLUMNS = [
    "period_type",
    "period_start",
    "period_end",
    "campaign_id",
    "campaign_name",
    "channel",
    "attribution_rule",
    "created_opportunities",
    "created_value",
    "open_opportunities",
    "open_value",
    "weighted_open_value",
]


@mart("kpi_marketing_sourced_pipeline")
def marketing_sourced_pipeline(raw: Raw, as_of: date) -> pd.DataFrame:
    """kpi_marketing_sourced_pipeline (M6): per campaign (first touch of the deal's source lead), pipeline created
    in the period and open at its end, per month and quarter."""
    if opportunity_states(raw, as_of).empty:  # no stage history: no pipeline to read
        return pd.DataFrame(columns=SOURCED_PIPELINE_COLUMNS)
    spine = periods(raw, as_of, MONTH_QUARTER)
    keys = ["period_type", "period_start"]
    campaign_of_lead = first_touch_campaigns(raw, lead_lifecycle(raw, as_of))
    snapshots = pipeline_snapshots(raw, as_of, MONTH_QUARTER)
    snapshots = snapshots.assign(campaign_id=lookup(snapshots["source_lead_id"], campaign_of_lead)).dropna(
        subset=["campaign_id"]
    )
    open_sums = snapshots.groupby(keys + ["campaign_id"], as_index=False).agg(
        open_opportunities=("amount", "count"),
        open_value=("amount", "sum"),
        weighted_open_value=("weighted_amount", "sum"),
    )
    states = opportunity_states(raw, as_of)
    first = states[states["state_number"] == 1]
    first = first.assign(campaign_id=lookup(first["source_lead_id"], campaign_of_lead)).dropna(subset=["campaign_id"])
    created = (
        in_periods(first, "valid_from_on", spine)
        .groupby(keys + ["campaign_id"], as_index=False)
        .agg(created_opportunities=("amount", "count"), created_value=("amount", "sum"))
    )
    campaigns = raw["campaigns"][["campaign_id", "campaign_name", "channel"]]
    rows = spine[keys + ["period_end"]].merge(campaigns, how="cross")
    rows = rows.merge(created, on=keys + ["campaign_id"], how="left").merge(
        open_sums, on=keys + ["campaign_id"], how="left"
    )
    rows["attribution_rule"] = "first_touch"
    as_counts(rows, ["created_opportunities", "open_opportunities"])
    as_money(rows, ["created_value", "open_value", "weighted_open_value"])
    return rows[SOURCED_PIPELINE_COLUMNS].sort_values(keys + ["campaign_id"]).reset_index(drop=True)
