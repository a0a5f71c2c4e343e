"""The shared definitions in pandas (models/docs/definitions.md): dates and the as-of date, safe ratios and
money rounding, the lead lifecycle, first-touch attribution, new customers, closed deals and the
subscription months that several KPI marts are built from."""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

import pandas as pd

from oracle.staging import Raw, is_true, lookup

# --------------------------------------------------------------------------------------------------
# Dates
# --------------------------------------------------------------------------------------------------


def month_start(values: pd.Series) -> pd.Series:
    return values.dt.to_period("M").dt.to_timestamp()


def as_month(day: date) -> pd.Timestamp:
    return pd.Timestamp(day.year, day.month, 1)


def months_between(first: pd.Timestamp, last: pd.Timestamp) -> list[pd.Timestamp]:
    """First days of the months from first's month to last's month (inclusive); empty if first > last."""
    return list(pd.date_range(as_month(first.date()), as_month(last.date()), freq="MS"))


def end_of_day(as_of: date) -> pd.Timestamp:
    """The first instant after the as-of date: events strictly before it are on or before the as-of date."""
    return pd.Timestamp(as_of) + pd.Timedelta(days=1)


def _data_dates(raw: Raw) -> pd.Series:
    return pd.concat(
        [
            raw["leads"]["created_at"].dt.normalize(),
            raw["opportunities"]["created_at"].dt.normalize(),
            raw["campaign_spend"]["spend_date"],
        ],
        ignore_index=True,
    ).dropna()


def as_of_date(raw: Raw) -> date:
    """The last date in the data: greatest lead created date, opportunity created date, campaign spend date."""
    return pd.Timestamp(_data_dates(raw).max()).date()


def first_data_date(raw: Raw) -> date:
    """The least of the as-of dates' inputs and of subscription period_start dates."""
    dates = pd.concat([_data_dates(raw), raw["subscriptions"]["period_start"]], ignore_index=True).dropna()
    return pd.Timestamp(dates.min()).date()


def safe_ratio(numerator: pd.Series, denominator: pd.Series) -> pd.Series:
    """numerator / denominator, NaN where the denominator is 0 or null."""
    numerator = numerator.astype(float)
    denominator = denominator.astype(float)
    return (numerator / denominator.where(denominator != 0)).astype(float)


def round_money(values: pd.Series) -> pd.Series:
    """Money to 2 decimals, half away from zero on the decimal value (float noise below 1e-9 removed first)."""

    def to_cents(value: float) -> float:
        if math.isnan(value):
            return math.nan
        return float(Decimal(repr(round(value, 9))).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))

    return values.astype(float).map(to_cents).astype(float)


# --------------------------------------------------------------------------------------------------
# Shared definitions
# --------------------------------------------------------------------------------------------------


def opportunities_in_scope(raw: Raw, as_of: date) -> pd.DataFrame:
    """Staged opportunities created on or before the as-of date, with their stage's is_won / is_closed; a deal's
    amount (reporting currency) to the cent, so that bookings are sums of cents over any period."""
    opportunities = raw["opportunities"]
    opportunities = opportunities[opportunities["created_at"] < end_of_day(as_of)]
    opportunities = opportunities.assign(amount=round_money(opportunities["amount"]))
    stages = raw["stages"][["stage", "is_won", "is_closed"]]
    merged = opportunities.merge(stages, on="stage", how="left", validate="many_to_one")
    merged["is_won"] = is_true(merged["is_won"])
    merged["is_closed"] = is_true(merged["is_closed"])
    return merged


def closed_deals(raw: Raw, as_of: date) -> pd.DataFrame:
    """Opportunities whose stage is closed or won, with a close date on or before the as-of date."""
    opportunities = opportunities_in_scope(raw, as_of)
    closed = opportunities[
        (opportunities["is_closed"] | opportunities["is_won"]) & (opportunities["close_date"] <= pd.Timestamp(as_of))
    ]
    return closed.assign(close_month=month_start(closed["close_date"]))


def won_deals(raw: Raw, as_of: date) -> pd.DataFrame:
    deals = closed_deals(raw, as_of)
    return deals[deals["is_won"]]


def _first_status_at(history: pd.DataFrame, status: str) -> pd.Series:
    return history[history["status"] == status].groupby("lead_id")["changed_at"].min()


def lead_lifecycle(raw: Raw, as_of: date) -> pd.DataFrame:
    """One row per staged lead created by the as-of date, with the time each lifecycle stage was reached.

    opportunity_at = earliest created_at of the lead's opportunities; won_on = earliest close_date of its won
    opportunities closed by the as-of date; sql_at = earliest of first sql / first converted status and
    opportunity_at; mql_at = earliest of first mql status and sql_at (a later stage implies the earlier ones).
    """
    end = end_of_day(as_of)
    leads = raw["leads"]
    leads = leads[leads["created_at"] < end][["lead_id", "created_at", "channel", "source_campaign_id"]].copy()
    history = raw["lead_status_history"]
    history = history[(history["changed_at"] < end) & history["lead_id"].isin(leads["lead_id"])]
    opportunities = opportunities_in_scope(raw, as_of)
    won = won_deals(raw, as_of)

    lead_ids = leads["lead_id"]
    first_mql = lookup(lead_ids, _first_status_at(history, "mql"))
    first_sql = lookup(lead_ids, _first_status_at(history, "sql"))
    first_converted = lookup(lead_ids, _first_status_at(history, "converted"))
    opportunity_at = lookup(lead_ids, opportunities.groupby("source_lead_id")["created_at"].min())
    won_on = lookup(lead_ids, won.groupby("source_lead_id")["close_date"].min())
    sql_at = pd.concat([first_sql, first_converted, opportunity_at], axis=1).min(axis=1)
    mql_at = pd.concat([first_mql, sql_at], axis=1).min(axis=1)

    return leads.assign(
        cohort_month=month_start(leads["created_at"]),
        mql_at=pd.to_datetime(mql_at),
        sql_at=pd.to_datetime(sql_at),
        opportunity_at=pd.to_datetime(opportunity_at),
        won_on=pd.to_datetime(won_on),
    ).reset_index(drop=True)


def first_touch_campaigns(raw: Raw, leads: pd.DataFrame) -> pd.Series:
    """Campaign of each lead (index lead_id) by first touch; missing when none.

    The lead's source campaign when it is a staged campaign, else the campaign of its earliest touch
    (touched_at, ties by touch_id) among touches of staged campaigns.
    """
    campaign_ids = set(raw["campaigns"]["campaign_id"])
    source = leads.set_index("lead_id")["source_campaign_id"]
    source = source[source.isin(campaign_ids)]
    touches = raw["campaign_touches"]
    touches = touches[touches["campaign_id"].isin(campaign_ids) & touches["lead_id"].isin(leads["lead_id"])]
    earliest = touches.sort_values(["touched_at", "touch_id"]).drop_duplicates("lead_id").set_index("lead_id")
    lead_ids = leads["lead_id"]
    attributed = lookup(lead_ids, source).fillna(lookup(lead_ids, earliest["campaign_id"]))
    return pd.Series(attributed.to_numpy(), index=lead_ids.to_numpy(), dtype=object).dropna()


def new_customers(raw: Raw, as_of: date) -> pd.DataFrame:
    """Each account at its first won opportunity (earliest close_date, ties by opportunity_id) by the as-of date."""
    won = won_deals(raw, as_of)
    first = won.sort_values(["close_date", "opportunity_id"]).drop_duplicates("account_id")
    return first[["account_id", "opportunity_id", "source_lead_id", "close_date", "close_month"]].reset_index(drop=True)


def subscription_months(raw: Raw, as_of: date) -> pd.DataFrame:
    """account_id x month from the account's first active month to the as-of month: is_active and mrr.

    Active in month m = a period [period_start, period_end) of the account covers m's snapshot date (the last
    day of m, or the as-of date in the as-of month); mrr = sum of the covering periods' MRR. Only
    subscriptions of staged accounts count.
    """
    columns = ["account_id", "month", "is_active", "mrr"]
    as_of_ts = pd.Timestamp(as_of)
    periods = raw["subscriptions"]
    periods = periods[periods["account_id"].isin(raw["accounts"]["account_id"]) & (periods["period_start"] <= as_of_ts)]
    if periods.empty:
        return pd.DataFrame(columns=columns)
    periods = periods.assign(mrr=round_money(periods["mrr"]))  # each period's MRR to the cent
    rows = []
    for period in periods.itertuples(index=False):
        last = as_of_ts if pd.isna(period.period_end) else min(as_of_ts, period.period_end)
        for month in months_between(period.period_start, last):
            snapshot = min(month + pd.offsets.MonthEnd(0), as_of_ts)
            covers = period.period_start <= snapshot and (pd.isna(period.period_end) or snapshot < period.period_end)
            if covers:
                rows.append((period.account_id, month, period.mrr))
    covered = pd.DataFrame(rows, columns=["account_id", "month", "mrr"])
    active = covered.groupby(["account_id", "month"], as_index=False)["mrr"].sum()
    first_month = active.groupby("account_id")["month"].min()
    grid = pd.DataFrame(
        [(account, month) for account, first in first_month.items() for month in months_between(first, as_of_ts)],
        columns=["account_id", "month"],
    )
    months = grid.merge(active, on=["account_id", "month"], how="left", indicator=True)
    months["is_active"] = months.pop("_merge") == "both"
    months["mrr"] = months["mrr"].fillna(0.0)
    return months[columns]


def spine(keys: pd.DataFrame, months: Iterable[pd.Timestamp]) -> pd.DataFrame:
    return keys.merge(pd.DataFrame({"month": list(months)}), how="cross")


# --------------------------------------------------------------------------------------------------
# Customer definitions (models/docs/customers.md): reporting periods, product months, customer
# segments, recognised invoices
# --------------------------------------------------------------------------------------------------


def reporting_periods(raw: Raw, as_of: date, period_types: Iterable[str] = ("month", "quarter")) -> pd.DataFrame:
    """Months and/or quarters from the first data date's to the as-of date's: type, start, end, snapshot.

    The snapshot of a period is its last day, or the as-of date for the period that holds it.
    """
    as_of_ts = pd.Timestamp(as_of)
    frequencies = {"month": "M", "quarter": "Q"}
    frames = []
    for period_type in period_types:
        first = pd.Timestamp(first_data_date(raw)).to_period(frequencies[period_type])
        last = as_of_ts.to_period(frequencies[period_type])
        spans = pd.period_range(first, last, freq=frequencies[period_type])
        starts = spans.to_timestamp(how="start")
        ends = spans.to_timestamp(how="end").normalize()
        frames.append(
            pd.DataFrame(
                {
                    "period_type": period_type,
                    "period_start": starts,
                    "period_end": ends,
                    "snapshot": [min(end, as_of_ts) for end in ends],
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def subscription_product_months(raw: Raw, as_of: date) -> pd.DataFrame:
    """account_id x product_id x month from the first month the account had the product active to the as-of
    month: is_active and mrr (the subscription months rule, per product)."""
    columns = ["account_id", "product_id", "month", "is_active", "mrr"]
    as_of_ts = pd.Timestamp(as_of)
    periods = raw["subscriptions"]
    periods = periods[periods["account_id"].isin(raw["accounts"]["account_id"]) & (periods["period_start"] <= as_of_ts)]
    periods = periods.assign(mrr=round_money(periods["mrr"]))  # each period's MRR to the cent
    rows = []
    for period in periods.itertuples(index=False):
        last = as_of_ts if pd.isna(period.period_end) else min(as_of_ts, period.period_end)
        for month in months_between(period.period_start, last):
            snapshot = min(month + pd.offsets.MonthEnd(0), as_of_ts)
            if period.period_start <= snapshot and (pd.isna(period.period_end) or snapshot < period.period_end):
                rows.append((period.account_id, period.product_id, month, period.mrr))
    if not rows:
        return pd.DataFrame(columns=columns)
    covered = pd.DataFrame(rows, columns=["account_id", "product_id", "month", "mrr"])
    active = covered.groupby(["account_id", "product_id", "month"], as_index=False)["mrr"].sum()
    first_month = active.groupby(["account_id", "product_id"])["month"].min()
    grid = pd.DataFrame(
        [(*pair, month) for pair, first in first_month.items() for month in months_between(first, as_of_ts)],
        columns=["account_id", "product_id", "month"],
    )
    months = grid.merge(active, on=["account_id", "product_id", "month"], how="left", indicator=True)
    months["is_active"] = months.pop("_merge") == "both"
    months["mrr"] = months["mrr"].fillna(0.0)
    return months[columns]


UNATTRIBUTED = "unattributed"


def customer_segments(raw: Raw, as_of: date) -> pd.DataFrame:
    """One row per customer (staged account won by a deal or with an active subscription month): region,
    acquisition channel (its first won deal's first-touch campaign's channel, else unattributed), acquisition
    month (the first won deal's month, else the first active month) and whether it was won by a deal."""
    accounts = raw["accounts"][["account_id", "region"]]
    won = new_customers(raw, as_of)
    campaign_of_lead = first_touch_campaigns(raw, lead_lifecycle(raw, as_of))
    channels = raw["campaigns"].set_index("campaign_id")["channel"]
    won = won.assign(campaign_id=lookup(won["source_lead_id"], campaign_of_lead))
    won = won.assign(acquisition_channel=lookup(won["campaign_id"], channels)).set_index("account_id")
    months = subscription_months(raw, as_of)
    first_active = months[months["is_active"].astype(bool)].groupby("account_id")["month"].min()
    customer_ids = pd.Series(sorted(set(won.index) | set(first_active.index)), name="account_id", dtype=object)
    customers = accounts[accounts["account_id"].isin(customer_ids)].copy()
    ids = customers["account_id"]
    customers["acquisition_channel"] = lookup(ids, won["acquisition_channel"]).fillna(UNATTRIBUTED)
    customers["acquisition_month"] = pd.to_datetime(lookup(ids, won["close_month"])).fillna(lookup(ids, first_active))
    customers["is_won_customer"] = ids.isin(won.index)
    return customers.reset_index(drop=True)


def revenue_entries(raw: Raw, as_of: date) -> pd.DataFrame:
    """Recognised revenue as entries, one per invoice and one per refund, each in cents and on its own date.

    Invoices: those of a staged account issued on or before the as-of date, whatever their status, on their
    issue date; the money counts (paid_amount) only when the status is paid. Refunds: those of such a paid
    invoice dated on or before the as-of date, on the refund date, for the refund's amount as staged (the
    contract converts it at the refund date's rate, never at its invoice's). Every amount is rounded to the
    cent on its own row. recognised_amount = paid_amount - refunded_amount. Each entry carries its invoice's
    account, product (its subscription's) and the product's catalogue margin (list_price - unit_cost) /
    list_price.
    """
    as_of_ts = pd.Timestamp(as_of)
    invoices = raw["invoices"]
    invoices = invoices[
        invoices["account_id"].isin(raw["accounts"]["account_id"]) & (invoices["issued_on"] <= as_of_ts)
    ].copy()
    products_of_subscriptions = raw["subscriptions"].groupby("subscription_id")["product_id"].min()
    invoices["product_id"] = lookup(invoices["subscription_id"], products_of_subscriptions)
    products = raw["products"].set_index("product_id")
    margin = safe_ratio(products["list_price"] - products["unit_cost"], products["list_price"])
    invoices["gross_margin"] = lookup(invoices["product_id"], margin)
    is_paid = invoices["status"] == "paid"

    invoice_rows = pd.DataFrame(
        {
            "entry_type": "invoice",
            "entry_id": invoices["invoice_id"],
            "invoice_id": invoices["invoice_id"],
            "booked_on": invoices["issued_on"],
            "is_refused": invoices["status"] == "refused",
            "paid_amount": round_money(invoices["amount"].where(is_paid, 0.0)),
            "refunded_amount": 0.0,
        }
    )
    refunds = raw["refunds"]
    refunds = refunds[
        refunds["invoice_id"].isin(invoices.loc[is_paid, "invoice_id"]) & (refunds["refunded_on"] <= as_of_ts)
    ]
    refund_rows = pd.DataFrame(
        {
            "entry_type": "refund",
            "entry_id": refunds["refund_id"],
            "invoice_id": refunds["invoice_id"],
            "booked_on": refunds["refunded_on"],
            "is_refused": False,
            "paid_amount": 0.0,
            "refunded_amount": round_money(refunds["amount"]),
        }
    )
    entries = pd.concat([invoice_rows, refund_rows], ignore_index=True)
    of_invoice = invoices.set_index("invoice_id")
    for column in ["account_id", "product_id", "gross_margin"]:
        entries[column] = lookup(entries["invoice_id"], of_invoice[column])
    entries["booked_on"] = pd.to_datetime(entries["booked_on"])
    entries["booked_month"] = month_start(entries["booked_on"])
    entries["paid_amount"] = entries["paid_amount"].astype(float)
    entries["refunded_amount"] = entries["refunded_amount"].astype(float)
    entries["is_refused"] = entries["is_refused"].astype(bool)
    entries["recognised_amount"] = round_money(entries["paid_amount"] - entries["refunded_amount"])
    return entries
