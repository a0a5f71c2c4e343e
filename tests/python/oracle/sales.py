"""Sales KPI marts (S3, S4, S6, F3: revenue per rep) from the raw CSVs."""

from __future__ import annotations

from datetime import date

import pandas as pd

from oracle.registry import mart
from oracle.shared import (
    closed_deals,
    first_data_date,
    month_start,
    months_between,
    round_money,
    safe_ratio,
    won_deals,
)
from oracle.staging import Raw

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

    quotas = raw["quotas"].dropna(subset=["user_id"])
    quotas = quotas.assign(month=month_start(quotas["month_start"]))
    quota = quotas.groupby(["user_id", "month"], as_index=False)["amount"].sum().rename(columns={"amount": "quota"})

    rows = rep_months(raw, as_of, deals).merge(per_month, on=["user_id", "month"], how="left")
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


REVENUE_BY_PERIOD_COLUMNS = ["period_type", "period_start", "period_end", "bookings", "won_deals"]


def period_starts(days: pd.Series, period_type: str) -> pd.Series:
    """First day of each day's period: ISO week (Monday), month or quarter."""
    if period_type == "week":
        return days - pd.to_timedelta(days.dt.weekday, unit="D")
    return days.dt.to_period("M" if period_type == "month" else "Q").dt.to_timestamp()


def periods(raw: Raw, as_of: date) -> pd.DataFrame:
    """Every week, month and quarter from the first data date's to the as-of date's: type, start, end."""
    days = pd.Series(pd.date_range(pd.Timestamp(first_data_date(raw)), pd.Timestamp(as_of), freq="D"))
    frames = []
    for period_type, length in (
        ("week", pd.DateOffset(days=6)),
        ("month", pd.offsets.MonthEnd(0)),
        ("quarter", pd.offsets.QuarterEnd(0)),
    ):
        starts = period_starts(days, period_type).drop_duplicates()
        frames.append(pd.DataFrame({"period_type": period_type, "period_start": starts, "period_end": starts + length}))
    return pd.concat(frames, ignore_index=True)


@mart("kpi_revenue_by_period")
def revenue_by_period(raw: Raw, as_of: date) -> pd.DataFrame:
    """kpi_revenue_by_period: bookings and won deals per ISO week, month and quarter of the close date."""
    won = won_deals(raw, as_of)
    spine = periods(raw, as_of)
    rows = []
    for period_type, group in spine.groupby("period_type"):
        deals = won.assign(period_start=period_starts(won["close_date"], str(period_type)))
        sums = deals.groupby("period_start").agg(bookings=("amount", "sum"), won_deals=("opportunity_id", "count"))
        rows.append(group.merge(sums.reset_index(), on="period_start", how="left"))
    result = pd.concat(rows, ignore_index=True)
    result["bookings"] = round_money(result["bookings"].fillna(0.0))
    result["won_deals"] = result["won_deals"].fillna(0).astype("int64")
    return result[REVENUE_BY_PERIOD_COLUMNS].sort_values(["period_type", "period_start"]).reset_index(drop=True)
