"""An independent pandas re-implementation of the KPI marts, computed straight from the raw CSV files.

It is written from the written definitions only (models/docs/definitions.md, the column formulas in
models/marts/kpi/_kpi__models.yml, ../shared/RAW_CONTRACT.md and KPI_CATALOG.md), never from the dbt SQL,
so that a test comparing it with the marts catches a drift on either side.

Layout: `load_raw` is staging (type checks and quarantine, re-exports, soft deletes, money conversion);
then one small function per shared definition (lead lifecycle, first-touch attribution, new customers,
subscription months, closed deals); then one function per KPI mart, returning exactly the mart's columns.
Money is kept unrounded (float) until the last step of each mart, where it is rounded to 2 decimals;
rates are computed from the rounded money columns, as the marts' recomputation guard reads them.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import numpy as np
import pandas as pd

from crm_kpi.contract import BOOLEAN, DATE, DECIMAL, INTEGER, TABLES_BY_NAME, TIMESTAMP, Column, Table

Raw = dict[str, pd.DataFrame]

ATTRIBUTION_RULE = "first_touch"
REP_ROLES = ("ae", "am")
SURVEY_SCORE_RANGES = {"nps": (0, 10), "csat": (1, 10)}
ENPS_SCORE_RANGE = (0, 10)
# Columns whose values must be one of `stages.stage` (matched trimmed and lower-cased).
STAGE_COLUMNS = {("opportunities", "stage"), ("opportunity_stage_history", "stage")}
# The date a money row is converted at.
MONEY_EVENT_DATE = {
    "campaign_spend": "spend_date",
    "opportunities": "created_at",
    "quotas": "month_start",
    "subscriptions": "period_start",
    "invoices": "issued_on",
    "refunds": "refunded_on",
    "products": "updated_at",
    "campaigns": "updated_at",
    "competitor_prices": "observed_on",
}
TRUE_VALUES = frozenset({"true", "t", "1", "yes", "y"})
FALSE_VALUES = frozenset({"false", "f", "0", "no", "n"})
_DECIMAL_PATTERN = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")
_DATE_PATTERN = re.compile(r"^\d{4}-\d{2}-\d{2}$")


# --------------------------------------------------------------------------------------------------
# Staging
# --------------------------------------------------------------------------------------------------


def read_csv_as_text(path: Path) -> pd.DataFrame:
    """A raw CSV with every column as text and empty strings as null."""
    frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    return frame.astype(object).where(frame != "", None)


def parse_timestamps(values: pd.Series) -> pd.Series:
    """ISO 8601 timestamps with or without an offset (none = UTC) to UTC-naive timestamps; NaT if unparsable."""
    text = values.where(values.isna(), values.astype(str).str.strip())
    # A timestamp without an offset is UTC: say so explicitly, because pandas applies the offset of an
    # earlier element of a mixed series to the naive ones that follow it.
    has_offset = text.fillna("").str.contains(r"(?:Z|[+-]\d{2}:?\d{2})$", regex=True)
    text = text.where(has_offset | text.isna(), text + "Z")
    parsed = pd.to_datetime(text, utc=True, format="ISO8601", errors="coerce")
    return parsed.dt.tz_convert(None)


def parse_dates(values: pd.Series) -> pd.Series:
    """`YYYY-MM-DD` dates to midnight timestamps; NaT if unparsable."""
    text = values.where(values.isna(), values.astype(str).str.strip())
    well_formed = text.notna() & text.fillna("").str.match(_DATE_PATTERN)
    return pd.to_datetime(text.where(well_formed), format="%Y-%m-%d", errors="coerce")


def parse_decimals(values: pd.Series) -> pd.Series:
    """Plain decimal numbers (sign, digits, point, exponent; no `nan`, `inf` or thousands separators)."""
    text = values.where(values.isna(), values.astype(str).str.strip())
    well_formed = text.notna() & text.fillna("").str.match(_DECIMAL_PATTERN)
    return pd.to_numeric(text.where(well_formed), errors="coerce").astype(float)


def parse_integers(values: pd.Series) -> pd.Series:
    """Decimal numbers with an integral value (`12` or `12.0`; `12.5` does not parse)."""
    numbers = parse_decimals(values)
    return numbers.where(numbers.isna() | (numbers == np.floor(numbers)))


def parse_booleans(values: pd.Series) -> pd.Series:
    """true/false, t/f, 1/0, yes/no, y/n (trimmed, any case); None if null or unparsable."""
    text = values.where(values.isna(), values.astype(str).str.strip().str.lower())
    return text.map(lambda v: True if v in TRUE_VALUES else False if v in FALSE_VALUES else None).astype(object)


def is_true(values: pd.Series) -> pd.Series:
    """A boolean mask that is True only where the (parsed) value is True; null counts as False."""
    return values.map(lambda v: v is True).astype(bool)


def lookup(keys: pd.Series, values: pd.Series) -> pd.Series:
    """values[key] for each key (null where absent); `values` has a unique index. Keeps the values' dtype."""
    return pd.Series(values.reindex(keys.to_numpy()).to_numpy(), index=keys.index, dtype=values.dtype)


def normalise_enum(values: pd.Series) -> pd.Series:
    return values.where(values.isna(), values.astype(str).str.strip().str.lower())


def parse_column(column: Column, values: pd.Series, allowed: frozenset[str] | None) -> tuple[pd.Series, pd.Series]:
    """The typed column and a mask of rows whose non-null value is invalid (unparsable or not in `allowed`)."""
    present = values.notna()
    if column.type == TIMESTAMP:
        parsed: pd.Series = parse_timestamps(values)
    elif column.type == DATE:
        parsed = parse_dates(values)
    elif column.type == DECIMAL:
        parsed = parse_decimals(values)
    elif column.type == INTEGER:
        parsed = parse_integers(values)
    elif column.type == BOOLEAN:
        parsed = parse_booleans(values)
    elif column.accepted_values or column.lowercase:
        parsed = normalise_enum(values)
        if allowed is None:
            return parsed, pd.Series(False, index=values.index)
        return parsed, present & ~parsed.isin(allowed)
    else:
        parsed = values
    return parsed, present & parsed.isna()


def exchange_rate(currency: pd.Series, on: pd.Series, rates: pd.DataFrame, reporting_currency: str) -> pd.Series:
    """Rate to the reporting currency on `on`, else the latest earlier one; 1 for the reporting currency."""
    code = currency.where(currency.isna(), currency.astype(str).str.strip().str.upper())
    left = pd.DataFrame({"row": np.arange(len(code)), "currency": code.to_numpy(), "on": on.dt.normalize().to_numpy()})
    left["currency"] = left["currency"].astype("str")
    known = left["currency"].notna() & left["on"].notna()
    result = pd.Series(np.nan, index=np.arange(len(code)))
    if not rates.empty and known.any():
        right = rates.rename(columns={"rate_date": "on", "rate_to_reporting": "rate"})[["currency", "on", "rate"]]
        right = right.assign(currency=right["currency"].str.strip().str.upper().astype("str")).sort_values("on")
        matched = pd.merge_asof(left[known].sort_values("on"), right, on="on", by="currency", direction="backward")
        result[matched["row"].to_numpy()] = matched["rate"].to_numpy()
    result[(left["currency"] == reporting_currency.strip().upper()).to_numpy()] = 1.0
    return pd.Series(result.to_numpy(), index=currency.index)


def quarantine_mask(table: Table, typed: pd.DataFrame, invalid: pd.DataFrame, raw: pd.DataFrame) -> pd.Series:
    """Rows that fail a value check: unparsable, unknown enum, missing required value, score out of range."""
    bad = invalid.any(axis=1)
    for column in table.columns:
        if not column.nullable:
            bad |= raw[column.name].isna()
    if table.name == "survey_responses":
        bounds = typed["survey_type"].map(SURVEY_SCORE_RANGES)
        low = bounds.map(lambda b: b[0] if isinstance(b, tuple) else -math.inf)
        high = bounds.map(lambda b: b[1] if isinstance(b, tuple) else math.inf)
        bad |= typed["score"].notna() & ((typed["score"] < low) | (typed["score"] > high))
    if table.name == "employee_survey_responses":
        low_enps, high_enps = ENPS_SCORE_RANGE
        bad |= typed["score"].notna() & ((typed["score"] < low_enps) | (typed["score"] > high_enps))
    return bad


def stage_table(
    table: Table,
    raw: pd.DataFrame,
    rates: pd.DataFrame,
    reporting_currency: str,
    stage_names: frozenset[str],
) -> pd.DataFrame:
    """Staging of one raw table: value checks (quarantine), money conversion, re-exports, soft deletes."""
    raw = raw.copy()
    for name in table.column_names:
        if name not in raw.columns:
            raw[name] = None
    typed = raw.copy()
    invalid = pd.DataFrame(False, index=raw.index, columns=table.column_names)
    for column in table.columns:
        allowed = frozenset(column.accepted_values) or None
        if (table.name, column.name) in STAGE_COLUMNS:
            allowed = stage_names
        typed[column.name], invalid[column.name] = parse_column(column, raw[column.name], allowed)
    bad = quarantine_mask(table, typed, invalid, raw)

    if table.money:
        event_date = typed[MONEY_EVENT_DATE[table.name]]
        rate = exchange_rate(typed["currency"], event_date, rates, reporting_currency)
        for money in table.money:
            bad |= typed[money].notna() & rate.isna()
            typed[f"original_{money}"] = typed[money]
            typed[money] = typed[money] * rate
        typed["original_currency"] = typed["currency"]

    staged = typed[~bad]
    if "updated_at" in table.column_names and table.primary_key:
        staged = staged.sort_values("updated_at", kind="stable").drop_duplicates(list(table.primary_key), keep="last")
    if "is_deleted" in table.column_names:
        staged = staged[~is_true(staged["is_deleted"])]
    return staged.sort_index().reset_index(drop=True)


def load_raw(raw_dir: Path, reporting_currency: str = "USD") -> Raw:
    """Every `<table>.csv` in raw_dir, staged; absent tables are empty frames with the contract's columns."""
    texts: dict[str, pd.DataFrame] = {}
    for name, table in TABLES_BY_NAME.items():
        path = Path(raw_dir) / f"{name}.csv"
        texts[name] = read_csv_as_text(path) if path.exists() else pd.DataFrame(columns=table.column_names)

    no_rates = pd.DataFrame(columns=["currency", "rate_date", "rate_to_reporting"])
    rates = stage_table(
        TABLES_BY_NAME["exchange_rates"], texts["exchange_rates"], no_rates, reporting_currency, frozenset()
    )
    stages = stage_table(TABLES_BY_NAME["stages"], texts["stages"], rates, reporting_currency, frozenset())
    stage_names = frozenset(stages["stage"].dropna())

    staged: Raw = {"exchange_rates": rates, "stages": stages}
    for name, table in TABLES_BY_NAME.items():
        if name not in staged:
            staged[name] = stage_table(table, texts[name], rates, reporting_currency, stage_names)
    return staged


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
    """Staged opportunities created on or before the as-of date, with their stage's is_won / is_closed."""
    opportunities = raw["opportunities"]
    opportunities = opportunities[opportunities["created_at"] < end_of_day(as_of)]
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


def _spine(keys: pd.DataFrame, months: Iterable[pd.Timestamp]) -> pd.DataFrame:
    return keys.merge(pd.DataFrame({"month": list(months)}), how="cross")


# --------------------------------------------------------------------------------------------------
# KPI marts
# --------------------------------------------------------------------------------------------------

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
CHURN_COLUMNS = [
    "cohort_month",
    "months_since_start",
    "month",
    "cohort_size",
    "active_customers",
    "churned_customers",
    "logo_retention",
    "logo_churn",
    "starting_mrr",
    "mrr",
    "retained_mrr",
    "gross_revenue_retention",
    "net_revenue_retention",
]
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


def _days(later: pd.Series, earlier: pd.Series) -> pd.Series:
    return (later - earlier).dt.total_seconds() / 86400.0


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
    funnel = _spine(channels, months).rename(columns={"month": "cohort_month"})
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


def campaign_cac_monthly(raw: Raw, as_of: date) -> pd.DataFrame:
    """kpi_campaign_cac_monthly: campaign x month over the campaign's life plus any month with activity."""
    events = campaign_events(raw, as_of)
    keys = pd.concat([campaign_months(raw, as_of), events[["campaign_id", "month"]]]).drop_duplicates()
    monthly = keys.merge(events, on=["campaign_id", "month"], how="left")
    monthly = monthly.merge(_campaigns(raw)[["campaign_id", "campaign_name", "channel"]], on="campaign_id")
    monthly = _campaign_measures(monthly)
    return monthly[CAC_MONTHLY_COLUMNS].sort_values(["campaign_id", "month"]).reset_index(drop=True)


def churn_by_cohort(raw: Raw, as_of: date) -> pd.DataFrame:
    """kpi_churn_by_cohort: cohort month (first active month) x months since start, 0 .. as-of month."""
    months = subscription_months(raw, as_of)
    if months.empty:
        return pd.DataFrame(columns=CHURN_COLUMNS)
    cohorts = months[months["is_active"]].groupby("account_id")["month"].min().rename("cohort_month")
    starting = months[["account_id", "month", "mrr"]].set_axis(["account_id", "cohort_month", "starting_mrr"], axis=1)
    months = months.join(cohorts, on="account_id").merge(starting, on=["account_id", "cohort_month"], how="left")
    months["retained_mrr"] = np.minimum(months["mrr"], months["starting_mrr"])
    months["months_since_start"] = (months["month"].dt.year - months["cohort_month"].dt.year) * 12 + (
        months["month"].dt.month - months["cohort_month"].dt.month
    )
    churn = months.groupby(["cohort_month", "months_since_start", "month"], as_index=False).agg(
        cohort_size=("account_id", "count"),
        active_customers=("is_active", "sum"),
        starting_mrr=("starting_mrr", "sum"),
        mrr=("mrr", "sum"),
        retained_mrr=("retained_mrr", "sum"),
    )
    churn["active_customers"] = churn["active_customers"].astype("int64")
    churn["cohort_size"] = churn["cohort_size"].astype("int64")
    churn["churned_customers"] = churn["cohort_size"] - churn["active_customers"]
    churn["months_since_start"] = churn["months_since_start"].astype("int64")
    for column in ["starting_mrr", "mrr", "retained_mrr"]:
        churn[column] = round_money(churn[column])
    churn = churn.assign(
        logo_retention=safe_ratio(churn["active_customers"], churn["cohort_size"]),
        logo_churn=safe_ratio(churn["churned_customers"], churn["cohort_size"]),
        gross_revenue_retention=safe_ratio(churn["retained_mrr"], churn["starting_mrr"]),
        net_revenue_retention=safe_ratio(churn["mrr"], churn["starting_mrr"]),
    )
    return churn[CHURN_COLUMNS].sort_values(["cohort_month", "months_since_start"]).reset_index(drop=True)


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


def all_marts(raw: Raw, as_of: date) -> dict[str, pd.DataFrame]:
    """Every KPI mart the oracle reproduces, by mart name."""
    return {
        "kpi_funnel_conversion": funnel_conversion(raw, as_of),
        "kpi_campaign_cac": campaign_cac(raw, as_of),
        "kpi_campaign_cac_monthly": campaign_cac_monthly(raw, as_of),
        "kpi_churn_by_cohort": churn_by_cohort(raw, as_of),
        "kpi_revenue_per_rep": revenue_per_rep(raw, as_of),
    }


__all__ = [
    "all_marts",
    "as_of_date",
    "campaign_cac",
    "campaign_cac_monthly",
    "churn_by_cohort",
    "first_data_date",
    "first_touch_campaigns",
    "funnel_conversion",
    "lead_lifecycle",
    "load_raw",
    "new_customers",
    "revenue_per_rep",
    "subscription_months",
]
