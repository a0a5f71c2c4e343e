"""Customer KPI marts from the raw CSVs: C1 churn by cohort, C2-C4 the MRR bridge with churn and retention, C5 and
C9 recognised revenue, ARPA, returns and refusals, C6 lifetime value and CLV:CAC, C7 NPS and CSAT, C8 engagement."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from oracle.registry import mart
from oracle.shared import (
    UNATTRIBUTED,
    as_month,
    customer_segments,
    lookup,
    month_start,
    opportunities_in_scope,
    reporting_periods,
    revenue_entries,
    round_money,
    safe_ratio,
    subscription_months,
    subscription_product_months,
)
from oracle.staging import Raw

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


@mart("kpi_churn_by_cohort")
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


# --------------------------------------------------------------------------------------------------
# C4, C2, C3: MRR movements, churn and retention (kpi_mrr_movements)
# --------------------------------------------------------------------------------------------------

MRR_COUNTS = ["customers_at_start", "new_customers", "reactivated_customers", "churned_customers", "customers_at_end"]
MRR_MONEY = [
    "starting_mrr",
    "new_mrr",
    "expansion_mrr",
    "contraction_mrr",
    "churned_mrr",
    "reactivated_mrr",
    "ending_mrr",
]
MRR_COLUMNS = [
    "period_type",
    "period_start",
    "period_end",
    "breakdown",
    "segment",
    *MRR_COUNTS,
    *MRR_MONEY[:-1],
    "net_new_mrr",
    "ending_mrr",
    "logo_churn_rate",
    "customer_retention_rate",
    "gross_revenue_churn_rate",
    "net_revenue_churn_rate",
]


def period_movements(months: pd.DataFrame, keys: list[str], periods: pd.DataFrame) -> pd.DataFrame:
    """Per customer (the `keys` of `months`: account, or account and product) and period: its state at the
    period's opening snapshot (the month before the period) and closing snapshot (the month of the period's
    snapshot), classified: new (first active inside the period), reactivated (first active before it), churned,
    expansion, contraction."""
    state = months[[*keys, "month", "is_active", "mrr"]]
    first_active = (
        state[state["is_active"].astype(bool)].groupby(keys)["month"].min().rename("first_active_month").reset_index()
    )
    frames = []
    for period in periods.itertuples(index=False):
        opening = state[state["month"] == period.period_start - pd.DateOffset(months=1)]
        closing = state[state["month"] == as_month(period.snapshot.date())]
        both = opening.drop(columns="month").merge(
            closing.drop(columns="month"), on=keys, how="outer", suffixes=("_opening", "_closing")
        )
        frames.append(both.assign(period_type=period.period_type, period_start=period.period_start))
    rows = pd.concat(frames, ignore_index=True).merge(first_active, on=keys, how="left")
    was = rows["is_active_opening"].eq(True)
    now = rows["is_active_closing"].eq(True)
    start = rows["mrr_opening"].astype(float).where(was, 0.0)
    end = rows["mrr_closing"].astype(float).where(now, 0.0)
    arriving = now & ~was
    new = arriving & (rows["first_active_month"] >= rows["period_start"])
    reactivated = arriving & (rows["first_active_month"] < rows["period_start"])
    churned = was & ~now
    kept = was & now
    return rows[[*keys, "period_type", "period_start"]].assign(
        customers_at_start=was.astype("int64"),
        new_customers=new.astype("int64"),
        reactivated_customers=reactivated.astype("int64"),
        churned_customers=churned.astype("int64"),
        customers_at_end=now.astype("int64"),
        starting_mrr=start,
        new_mrr=end.where(new, 0.0),
        expansion_mrr=(end - start).where(kept & (end > start), 0.0),
        contraction_mrr=(start - end).where(kept & (end < start), 0.0),
        churned_mrr=start.where(churned, 0.0),
        reactivated_mrr=end.where(reactivated, 0.0),
        ending_mrr=end,
    )


@mart("kpi_mrr_movements")
def mrr_movements(raw: Raw, as_of: date) -> pd.DataFrame:
    """kpi_mrr_movements: the MRR bridge, churn and retention per month and quarter, in total and per channel,
    region and product."""
    account_months = subscription_months(raw, as_of)
    if account_months.empty:
        return pd.DataFrame(columns=MRR_COLUMNS)
    periods = reporting_periods(raw, as_of)
    accounts = period_movements(account_months, ["account_id"], periods)
    segments = customer_segments(raw, as_of).set_index("account_id")
    products = period_movements(subscription_product_months(raw, as_of), ["account_id", "product_id"], periods)
    segmented = pd.concat(
        [
            accounts.assign(breakdown="total", segment="all"),
            accounts.assign(
                breakdown="channel", segment=lookup(accounts["account_id"], segments["acquisition_channel"])
            ),
            accounts.assign(breakdown="region", segment=lookup(accounts["account_id"], segments["region"])),
            products.assign(breakdown="product", segment=products["product_id"]),
        ],
        ignore_index=True,
    )
    keys = ["period_type", "period_start", "breakdown", "segment"]
    sums = segmented.groupby(keys, as_index=False)[MRR_COUNTS + MRR_MONEY].sum()
    spine = periods[["period_type", "period_start", "period_end"]].merge(
        segmented[["breakdown", "segment"]].drop_duplicates(), how="cross"
    )
    bridge = spine.merge(sums, on=keys, how="left")
    for column in MRR_COUNTS:
        bridge[column] = bridge[column].fillna(0).astype("int64")
    for column in MRR_MONEY:
        bridge[column] = bridge[column].fillna(0.0)
    bridge["net_new_mrr"] = round_money(bridge["ending_mrr"] - bridge["starting_mrr"])
    for column in MRR_MONEY:
        bridge[column] = round_money(bridge[column])
    bridge = bridge.assign(
        logo_churn_rate=safe_ratio(bridge["churned_customers"], bridge["customers_at_start"]),
        customer_retention_rate=safe_ratio(
            bridge["customers_at_end"] - bridge["new_customers"] - bridge["reactivated_customers"],
            bridge["customers_at_start"],
        ),
        gross_revenue_churn_rate=safe_ratio(bridge["churned_mrr"] + bridge["contraction_mrr"], bridge["starting_mrr"]),
        net_revenue_churn_rate=safe_ratio(
            bridge["churned_mrr"] + bridge["contraction_mrr"] - bridge["expansion_mrr"], bridge["starting_mrr"]
        ),
    )
    return bridge[MRR_COLUMNS].sort_values(keys).reset_index(drop=True)


# --------------------------------------------------------------------------------------------------
# C5, C9: recognised revenue, ARPA, returns and refusals (kpi_recognised_revenue)
# --------------------------------------------------------------------------------------------------

REVENUE_COLUMNS = [
    "month",
    "product_id",
    "invoices",
    "refused_invoices",
    "paid_revenue",
    "refunded_amount",
    "recognised_revenue",
    "active_accounts",
    "arpa",
    "refund_rate",
    "refusal_rate",
]


@mart("kpi_recognised_revenue")
def recognised_revenue(raw: Raw, as_of: date) -> pd.DataFrame:
    """kpi_recognised_revenue: month x product (all, none): invoices, refusals, paid, refunded and recognised
    revenue, active accounts, ARPA, refund and refusal rates."""
    entries = revenue_entries(raw, as_of)
    entries = entries.assign(
        product_id=entries["product_id"].fillna("none"),
        refused=entries["is_refused"],
        invoice=entries["entry_type"] == "invoice",
    )
    revenue = pd.concat([entries.assign(product_id="all"), entries], ignore_index=True)
    revenue = (
        revenue.rename(columns={"booked_month": "month"})
        .groupby(["month", "product_id"], as_index=False)
        .agg(
            invoices=("invoice", "sum"),
            refused_invoices=("refused", "sum"),
            paid_revenue=("paid_amount", "sum"),
            refunded_amount=("refunded_amount", "sum"),
            recognised_revenue=("recognised_amount", "sum"),
        )
    )
    account_months = subscription_months(raw, as_of)
    product_months = subscription_product_months(raw, as_of)
    active = pd.concat(
        [account_months.assign(product_id="all"), product_months[account_months.columns.tolist() + ["product_id"]]],
        ignore_index=True,
    )
    active = (
        active[active["is_active"].astype(bool)]
        .groupby(["month", "product_id"], as_index=False)
        .agg(active_accounts=("account_id", "count"))
    )
    products = pd.DataFrame({"product_id": sorted(set(revenue["product_id"]) | set(active["product_id"]))})
    if products.empty:
        return pd.DataFrame(columns=REVENUE_COLUMNS)
    months = reporting_periods(raw, as_of, ["month"])[["period_start"]].rename(columns={"period_start": "month"})
    rows = months.merge(products, how="cross").merge(revenue, on=["month", "product_id"], how="left")
    rows = rows.merge(active, on=["month", "product_id"], how="left")
    for column in ["invoices", "refused_invoices", "active_accounts"]:
        rows[column] = rows[column].fillna(0).astype("int64")
    for column in ["paid_revenue", "refunded_amount", "recognised_revenue"]:
        rows[column] = round_money(rows[column].fillna(0.0))
    rows = rows.assign(
        arpa=safe_ratio(rows["recognised_revenue"], rows["active_accounts"]),
        refund_rate=safe_ratio(rows["refunded_amount"], rows["paid_revenue"]),
        refusal_rate=safe_ratio(rows["refused_invoices"], rows["invoices"]),
    )
    return rows[REVENUE_COLUMNS].sort_values(["month", "product_id"]).reset_index(drop=True)


# --------------------------------------------------------------------------------------------------
# C6: customer lifetime value and CLV:CAC (kpi_customer_lifetime_value)
# --------------------------------------------------------------------------------------------------

CLV_TRAILING_MONTHS = 12  # dbt var clv_trailing_months (default)
CLV_MEASURES = [
    "cohort_customers",
    "new_customers",
    "spend",
    "active_account_months",
    "recognised_revenue",
    "gross_profit",
    "customer_months_at_start",
    "churned_customers",
]
CLV_COLUMNS = [
    "acquisition_channel",
    "cohort_month",
    "cohort_customers",
    "new_customers",
    "spend",
    "cac",
    "active_account_months",
    "recognised_revenue",
    "arpa",
    "gross_profit",
    "gross_margin",
    "customer_months_at_start",
    "churned_customers",
    "monthly_churn_rate",
    "gross_clv",
    "net_clv",
    "clv_to_cac",
]


def channel_costs(raw: Raw, as_of: date, customers: pd.DataFrame) -> pd.DataFrame:
    """First-touch acquisition cost per channel and month: spend of the channel's staged campaigns (on or before
    the as-of date) and customers won that month through a campaign of the channel; unattributed: no spend."""
    campaigns = raw["campaigns"].set_index("campaign_id")["channel"]
    spend = raw["campaign_spend"]
    spend = spend[spend["campaign_id"].isin(campaigns.index) & (spend["spend_date"] <= pd.Timestamp(as_of))]
    # A spend row's amount is rounded to the cent once (fct_campaign_spend.amount); every total sums those.
    spend = spend.assign(
        acquisition_channel=lookup(spend["campaign_id"], campaigns),
        cohort_month=month_start(spend["spend_date"]),
        amount=round_money(spend["amount"]),
    )
    spend = spend.groupby(["acquisition_channel", "cohort_month"], as_index=False)["amount"].sum()
    won = customers[customers["is_won_customer"].astype(bool)].rename(columns={"acquisition_month": "cohort_month"})
    won = won.groupby(["acquisition_channel", "cohort_month"], as_index=False).agg(
        new_customers=("account_id", "count")
    )
    costs = spend.rename(columns={"amount": "spend"}).merge(
        won, on=["acquisition_channel", "cohort_month"], how="outer"
    )
    costs["new_customers"] = costs["new_customers"].fillna(0)
    costs["spend"] = costs["spend"].fillna(0.0).where(costs["acquisition_channel"] != UNATTRIBUTED)
    return costs


def trailing_churn(
    months: pd.DataFrame, segment_of: pd.DataFrame, window_start: pd.Timestamp, window_end: pd.Timestamp
) -> pd.DataFrame:
    """Per acquisition channel and cohort, summed over the window's months: customers active at the month's
    snapshot, customers active at the month before's (the start of the month), customers lost in the month."""
    keys = ["acquisition_channel", "cohort_month"]
    measures = ["active_account_months", "customer_months_at_start", "churned_customers"]
    if months.empty:
        return pd.DataFrame(columns=keys + measures)
    previous = months[["account_id", "month", "is_active"]].assign(month=months["month"] + pd.DateOffset(months=1))
    months = months.merge(previous.rename(columns={"is_active": "was_active"}), on=["account_id", "month"], how="left")
    months = months[(months["month"] >= window_start) & (months["month"] <= window_end)]
    was_active = months["was_active"].eq(True)
    is_active = months["is_active"].astype(bool)
    return (
        months.assign(
            acquisition_channel=lookup(months["account_id"], segment_of["acquisition_channel"]),
            cohort_month=lookup(months["account_id"], segment_of["acquisition_month"]),
            active_account_months=is_active.astype("int64"),
            customer_months_at_start=was_active.astype("int64"),
            churned_customers=(was_active & ~is_active).astype("int64"),
        )
        .groupby(keys, as_index=False)[measures]
        .sum()
    )


@mart("kpi_customer_lifetime_value")
def customer_lifetime_value(raw: Raw, as_of: date) -> pd.DataFrame:
    """kpi_customer_lifetime_value: acquisition channel (and all) x cohort month: CAC, trailing-window churn,
    ARPA, gross margin, gross and net CLV, CLV:CAC."""
    customers = customer_segments(raw, as_of)
    keys = ["acquisition_channel", "cohort_month"]
    segment_of = customers.set_index("account_id")
    as_of_month = as_month(as_of)
    window_start = as_of_month - pd.DateOffset(months=CLV_TRAILING_MONTHS - 1)

    churn = trailing_churn(subscription_months(raw, as_of), segment_of, window_start, as_of_month)

    entries = revenue_entries(raw, as_of)
    entries = entries[
        entries["account_id"].isin(segment_of.index)
        & (entries["booked_month"] >= window_start)
        & (entries["booked_month"] <= as_of_month)
    ]
    entries = entries.assign(
        acquisition_channel=lookup(entries["account_id"], segment_of["acquisition_channel"]),
        cohort_month=lookup(entries["account_id"], segment_of["acquisition_month"]),
        gross_profit=(entries["recognised_amount"] * entries["gross_margin"]).fillna(0.0),
    )
    revenue = entries.groupby(keys, as_index=False).agg(
        recognised_revenue=("recognised_amount", "sum"), gross_profit=("gross_profit", "sum")
    )
    sizes = (
        customers.rename(columns={"acquisition_month": "cohort_month"})
        .groupby(keys, as_index=False)
        .agg(cohort_customers=("account_id", "count"))
    )
    costs = channel_costs(raw, as_of, customers)

    # Empty parts (an export without subscriptions or invoices) have untyped columns: type the key.
    parts = [part.astype({"cohort_month": "datetime64[ns]"}) for part in (costs, sizes, churn, revenue)]
    rows = pd.concat([parts[0][keys], parts[1][keys]]).drop_duplicates()
    for part in parts:
        rows = rows.merge(part, on=keys, how="left")
    for column in CLV_MEASURES:
        if column != "spend":
            rows[column] = rows[column].fillna(0)
    rows["spend"] = rows["spend"].where(rows["acquisition_channel"] == UNATTRIBUTED, rows["spend"].fillna(0.0))
    totals = rows.groupby("cohort_month", as_index=False)[CLV_MEASURES].sum(min_count=0)
    rows = pd.concat([rows, totals.assign(acquisition_channel="all")], ignore_index=True)
    if rows.empty:
        return pd.DataFrame(columns=CLV_COLUMNS)

    for column in [
        "cohort_customers",
        "new_customers",
        "active_account_months",
        "customer_months_at_start",
        "churned_customers",
    ]:
        rows[column] = rows[column].astype("int64")
    for column in ["spend", "recognised_revenue", "gross_profit"]:
        rows[column] = round_money(rows[column])
    rows = rows.assign(
        cac=safe_ratio(rows["spend"], rows["new_customers"]),
        arpa=safe_ratio(rows["recognised_revenue"], rows["active_account_months"]),
        gross_margin=safe_ratio(rows["gross_profit"], rows["recognised_revenue"]),
        monthly_churn_rate=safe_ratio(rows["churned_customers"], rows["customer_months_at_start"]),
    )
    rows["gross_clv"] = safe_ratio(rows["gross_profit"], rows["active_account_months"] * rows["monthly_churn_rate"])
    rows["net_clv"] = rows["gross_clv"] - rows["cac"]
    rows["clv_to_cac"] = safe_ratio(rows["gross_clv"], rows["cac"])
    return rows[CLV_COLUMNS].sort_values(keys).reset_index(drop=True)


# --------------------------------------------------------------------------------------------------
# C7: NPS and CSAT (kpi_customer_satisfaction)
# --------------------------------------------------------------------------------------------------

SATISFACTION_COLUMNS = [
    "survey_type",
    "period_type",
    "period_start",
    "period_end",
    "breakdown",
    "segment",
    "respondents",
    "promoters",
    "passives",
    "detractors",
    "score_total",
    "nps",
    "csat",
]


def _latest(answers: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """The latest answer per key (responded_at, ties by the higher response_id)."""
    return answers.sort_values(["responded_at", "response_id"]).drop_duplicates(keys, keep="last")


@mart("kpi_customer_satisfaction")
def customer_satisfaction(raw: Raw, as_of: date) -> pd.DataFrame:
    """kpi_customer_satisfaction: survey type x month/quarter x total/product/region: respondents (latest answer
    per account and period), promoters, passives, detractors, NPS; CSAT on csat rows."""
    accounts = raw["accounts"].set_index("account_id")["region"]
    responses = raw["survey_responses"]
    responses = responses[responses["account_id"].isin(accounts.index)]
    responses = responses.assign(
        responded_on=responses["responded_at"].dt.normalize(),
        region=lookup(responses["account_id"], accounts),
        product=responses["product_id"].fillna("none"),
    )
    periods = reporting_periods(raw, as_of)
    answers = responses.merge(periods, how="cross")
    answers = answers[
        (answers["responded_on"] >= answers["period_start"]) & (answers["responded_on"] <= answers["snapshot"])
    ]
    period_keys = ["survey_type", "period_type", "period_start"]
    per_account = _latest(answers, [*period_keys, "account_id"])
    per_product = _latest(answers, [*period_keys, "account_id", "product"])
    counted = pd.concat(
        [
            per_account.assign(breakdown="total", segment="all"),
            per_account.assign(breakdown="region", segment=per_account["region"]),
            per_product.assign(breakdown="product", segment=per_product["product"]),
        ],
        ignore_index=True,
    )
    if counted.empty:
        return pd.DataFrame(columns=SATISFACTION_COLUMNS)
    score = counted["score"]
    counted = counted.assign(
        promoter=(score >= 9).astype("int64"),
        passive=((score >= 7) & (score <= 8)).astype("int64"),
        detractor=(score <= 6).astype("int64"),
    )
    keys = [*period_keys, "breakdown", "segment"]
    sums = counted.groupby(keys, as_index=False).agg(
        respondents=("account_id", "count"),
        promoters=("promoter", "sum"),
        passives=("passive", "sum"),
        detractors=("detractor", "sum"),
        score_total=("score", "sum"),
    )
    spine = (
        counted[["survey_type", "breakdown", "segment"]]
        .drop_duplicates()
        .merge(periods[["period_type", "period_start", "period_end"]], how="cross")
    )
    rows = spine.merge(sums, on=keys, how="left")
    for column in ["respondents", "promoters", "passives", "detractors", "score_total"]:
        rows[column] = rows[column].fillna(0).astype("int64")
    is_nps = rows["survey_type"] == "nps"
    for column in ["promoters", "passives", "detractors"]:
        rows[column] = rows[column].astype("Int64").where(is_nps)
    rows["nps"] = safe_ratio(100 * (rows["promoters"] - rows["detractors"]), rows["respondents"]).where(is_nps)
    rows["csat"] = safe_ratio(rows["score_total"], rows["respondents"]).where(~is_nps)
    return rows[SATISFACTION_COLUMNS].sort_values(keys).reset_index(drop=True)


# --------------------------------------------------------------------------------------------------
# C8: existing-client engagement (kpi_account_engagement)
# --------------------------------------------------------------------------------------------------

REP_ROLES = ("sdr", "bdr", "ae", "am")  # dim_reps.is_rep
TENURE_BANDS = [("0-2 months", 0), ("3-5 months", 3), ("6-11 months", 6), ("12-23 months", 12), ("24+ months", 24)]
ENGAGEMENT_COLUMNS = [
    "quarter_start",
    "quarter_end",
    "tenure_band",
    "tenure_band_from_months",
    "active_accounts",
    "touched_accounts",
    "touches",
    "touches_per_account",
    "touched_account_rate",
]


def tenure_band(months: int) -> str:
    """The band whose lower bound is the largest one not above `months`."""
    return [name for name, lower in TENURE_BANDS if months >= lower][-1]


@mart("kpi_account_engagement")
def account_engagement(raw: Raw, as_of: date) -> pd.DataFrame:
    """kpi_account_engagement: quarter x tenure band (and all): accounts active at the quarter's snapshot, rep
    touches on them in the quarter, touches per account."""
    months = subscription_months(raw, as_of)
    quarters = reporting_periods(raw, as_of, ["quarter"])
    quarters = quarters.assign(month=[as_month(day.date()) for day in quarters["snapshot"]])
    active = months[months["is_active"].astype(bool)].merge(quarters, on="month")
    if active.empty:
        return pd.DataFrame(columns=ENGAGEMENT_COLUMNS)
    cohorts = months.groupby("account_id")["month"].min()
    first = lookup(active["account_id"], cohorts)
    tenure = (active["month"].dt.year - first.dt.year) * 12 + (active["month"].dt.month - first.dt.month)
    active = active.assign(tenure_band=tenure.map(tenure_band))

    users = raw["users"]
    reps = set(users[users["role"].isin(REP_ROLES)]["user_id"])
    activities = raw["activities"]
    activities = activities[
        activities["user_id"].isin(reps) & (activities["occurred_at"] < pd.Timestamp(as_of) + pd.Timedelta(days=1))
    ]
    deal_accounts = opportunities_in_scope(raw, as_of).set_index("opportunity_id")["account_id"]
    activities = activities.assign(
        account=activities["account_id"].fillna(lookup(activities["opportunity_id"], deal_accounts)),
        period_start=activities["occurred_at"].dt.to_period("Q").dt.to_timestamp(),
    )
    touches = activities.groupby(["account", "period_start"]).size().rename("touches").reset_index()
    touches = touches.rename(columns={"account": "account_id"})
    active = active.merge(touches, on=["account_id", "period_start"], how="left")
    active["touches"] = active["touches"].fillna(0).astype("int64")
    active["touched"] = (active["touches"] > 0).astype("int64")
    banded = pd.concat([active, active.assign(tenure_band="all")], ignore_index=True)
    sums = banded.groupby(["period_start", "tenure_band"], as_index=False).agg(
        active_accounts=("account_id", "count"), touched_accounts=("touched", "sum"), touches=("touches", "sum")
    )
    bands = pd.DataFrame([*TENURE_BANDS, ("all", None)], columns=["tenure_band", "tenure_band_from_months"]).astype(
        {"tenure_band_from_months": "Int64"}
    )
    rows = quarters[["period_start", "period_end"]].merge(bands, how="cross")
    rows = rows.merge(sums, on=["period_start", "tenure_band"], how="left")
    for column in ["active_accounts", "touched_accounts", "touches"]:
        rows[column] = rows[column].fillna(0).astype("int64")
    rows = rows.rename(columns={"period_start": "quarter_start", "period_end": "quarter_end"}).assign(
        touches_per_account=safe_ratio(rows["touches"], rows["active_accounts"]),
        touched_account_rate=safe_ratio(rows["touched_accounts"], rows["active_accounts"]),
    )
    return rows[ENGAGEMENT_COLUMNS].sort_values(["quarter_start", "tenure_band"]).reset_index(drop=True)
