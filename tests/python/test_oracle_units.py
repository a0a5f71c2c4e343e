"""Fast unit tests of the oracle (tests/python/oracle.py) on tiny hand-made raw exports."""

from __future__ import annotations

import math
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import oracle
from compare import compare_frames
from crm_kpi.contract import TABLES_BY_NAME

STAGES = [
    {"stage": "prospecting", "sort_order": "1", "probability": "0.1", "is_closed": "false", "is_won": "false"},
    {"stage": "closed_won", "sort_order": "2", "probability": "1", "is_closed": "true", "is_won": "true"},
    {"stage": "closed_lost", "sort_order": "3", "probability": "0", "is_closed": "true", "is_won": "false"},
]
USER = {
    "user_id": "u1",
    "full_name": "Ada",
    "email": "ada@example.com",
    "role": "ae",
    "region": "emea",
    "country": "DE",
    "hired_on": "2024-01-10",
    "updated_at": "2024-01-10T00:00:00Z",
}


def lead(lead_id: str, created_at: str, **fields: str) -> dict[str, str]:
    row = {
        "lead_id": lead_id,
        "created_at": created_at,
        "channel": "email",
        "region": "emea",
        "country": "DE",
        "status": "new",
        "updated_at": created_at,
    }
    return row | fields


def opportunity(opportunity_id: str, created_at: str, close_date: str, stage: str, **fields: str) -> dict[str, str]:
    row = {
        "opportunity_id": opportunity_id,
        "account_id": "a1",
        "owner_user_id": "u1",
        "opportunity_type": "new_business",
        "created_at": created_at,
        "close_date": close_date,
        "stage": stage,
        "amount": "1000",
        "currency": "USD",
        "updated_at": created_at,
    }
    return row | fields


def account(account_id: str, **fields: str) -> dict[str, str]:
    row = {
        "account_id": account_id,
        "account_name": account_id.upper(),
        "region": "emea",
        "country": "DE",
        "created_at": "2024-01-01T00:00:00Z",
        "updated_at": "2024-01-01T00:00:00Z",
    }
    return row | fields


def write_raw(folder: Path, tables: dict[str, list[dict[str, str]]]) -> Path:
    """CSV files with the contract's columns (missing values empty); users and stages default to one rep."""
    tables = {"users": [USER], "stages": STAGES, "leads": [], "opportunities": []} | tables
    for name, rows in tables.items():
        columns = TABLES_BY_NAME[name].column_names
        columns = columns + sorted({column for row in rows for column in row if column not in columns})
        frame = pd.DataFrame([[row.get(column, "") for column in columns] for row in rows], columns=columns)
        frame.to_csv(folder / f"{name}.csv", index=False)
    return folder


@pytest.fixture
def stage(tmp_path: Path) -> Any:
    def load(tables: dict[str, list[dict[str, str]]], reporting_currency: str = "USD") -> oracle.Raw:
        return oracle.load_raw(write_raw(tmp_path, tables), reporting_currency)

    return load


# --- staging -------------------------------------------------------------------------------------


def test_offset_timestamp_late_on_the_31st_lands_in_the_next_utc_month(stage: Any) -> None:
    raw = stage({"leads": [lead("l1", "2024-01-31T23:30:00-05:00")]})
    assert raw["leads"].loc[0, "created_at"] == pd.Timestamp("2024-02-01 04:30:00")
    funnel = oracle.funnel.funnel_conversion(raw, date(2024, 2, 1))
    assert funnel[["cohort_month", "leads"]].values.tolist() == [[pd.Timestamp("2024-02-01"), 1]]


def test_timestamps_with_and_without_offset_are_utc(stage: Any) -> None:
    raw = stage(
        {
            "leads": [
                lead("l1", "2025-03-01T23:30:00+03:30"),
                lead("l2", "2025-03-01 20:00:00Z"),
                lead("l3", "2025-03-01 20:00:00"),
            ]
        }
    )
    assert raw["leads"]["created_at"].tolist() == [pd.Timestamp("2025-03-01 20:00:00")] * 3


def test_a_re_exported_older_row_loses(stage: Any) -> None:
    newer = lead("l1", "2024-01-05T00:00:00Z", channel="webinar", updated_at="2024-02-01T00:00:00Z")
    older = lead("l1", "2024-01-05T00:00:00Z", channel="email", updated_at="2024-01-05T00:00:00Z")
    raw = stage({"leads": [newer, older]})
    assert raw["leads"]["channel"].tolist() == ["webinar"]


def test_a_quarantined_newer_row_does_not_supersede_the_older_one(stage: Any) -> None:
    newer = lead("l1", "2024-01-05T00:00:00Z", channel="carrier_pigeon", updated_at="2024-02-01T00:00:00Z")
    older = lead("l1", "2024-01-05T00:00:00Z", channel="email", updated_at="2024-01-05T00:00:00Z")
    raw = stage({"leads": [newer, older]})
    assert raw["leads"]["channel"].tolist() == ["email"]


def test_soft_deleted_records_are_dropped(stage: Any) -> None:
    raw = stage({"leads": [lead("l1", "2024-01-05T00:00:00Z", is_deleted="TRUE"), lead("l2", "2024-01-05T00:00:00Z")]})
    assert raw["leads"]["lead_id"].tolist() == ["l2"]


def test_enums_are_trimmed_and_lower_cased_and_unknown_values_quarantined(stage: Any) -> None:
    raw = stage(
        {
            "leads": [
                lead("l1", "2024-01-05T00:00:00Z", channel="  Paid_Search "),
                lead("l2", "2024-01-05", channel="tv"),
            ],
            "opportunities": [
                opportunity("o1", "2024-01-05T00:00:00Z", "2024-02-01", " Closed_Won"),
                opportunity("o2", "2024-01-05T00:00:00Z", "2024-02-01", "negotiation"),
            ],
        }
    )
    assert raw["leads"]["channel"].tolist() == ["paid_search"]
    assert raw["opportunities"]["stage"].tolist() == ["closed_won"]


def test_unparsable_values_and_missing_required_values_are_quarantined(stage: Any) -> None:
    raw = stage(
        {
            "leads": [
                lead("l1", "yesterday"),
                lead("l2", "2024-01-05T00:00:00Z", region=""),
                lead("l3", "2024-01-05T00:00:00Z", owner_user_id=""),
            ],
            "opportunities": [opportunity("o1", "2024-01-05T00:00:00Z", "2024-02-01", "closed_won", amount="1,000")],
        }
    )
    assert raw["leads"]["lead_id"].tolist() == ["l3"]
    assert raw["opportunities"].empty


def test_survey_scores_out_of_range_are_quarantined(stage: Any) -> None:
    def response(response_id: str, survey_type: str, score: str) -> dict[str, str]:
        return {
            "response_id": response_id,
            "survey_type": survey_type,
            "account_id": "a1",
            "responded_at": "2024-01-05T00:00:00Z",
            "score": score,
        }

    rows = [response("r1", "nps", "0"), response("r2", "nps", "11"), response("r3", "csat", "0")]
    raw = stage({"survey_responses": [*rows, response("r4", "csat", "10"), response("r5", "nps", "-1")]})
    assert raw["survey_responses"]["response_id"].tolist() == ["r1", "r4"]


def test_money_converts_at_the_event_date_rate_else_the_latest_earlier_one(stage: Any) -> None:
    rates = [
        {"currency": "EUR", "rate_date": "2024-01-01", "rate_to_reporting": "1.10"},
        {"currency": "EUR", "rate_date": "2024-01-10", "rate_to_reporting": "1.20"},
    ]
    spend = [
        {"campaign_id": "c1", "spend_date": "2024-01-10", "amount": "100", "currency": "EUR"},
        {"campaign_id": "c1", "spend_date": "2024-01-05", "amount": "100", "currency": "EUR"},
        {"campaign_id": "c1", "spend_date": "2023-12-31", "amount": "100", "currency": "EUR"},
        {"campaign_id": "c1", "spend_date": "2024-01-05", "amount": "100", "currency": "GBP"},
        {"campaign_id": "c1", "spend_date": "2024-01-06", "amount": "7.5", "currency": "USD"},
    ]
    raw = stage({"exchange_rates": rates, "campaign_spend": spend})
    assert raw["campaign_spend"]["amount"].tolist() == pytest.approx([120.0, 110.0, 7.5])
    assert raw["campaign_spend"]["original_amount"].tolist() == pytest.approx([100.0, 100.0, 7.5])


def test_as_of_date_is_the_last_lead_opportunity_or_spend_date(stage: Any) -> None:
    raw = stage(
        {
            "leads": [lead("l1", "2024-03-01T10:00:00Z")],
            "opportunities": [opportunity("o1", "2024-03-02T23:00:00-02:00", "2024-06-30", "prospecting")],
            "campaign_spend": [{"campaign_id": "c1", "spend_date": "2024-03-02", "amount": "1", "currency": "USD"}],
        }
    )
    assert oracle.as_of_date(raw) == date(2024, 3, 3)


# --- lead lifecycle and funnel -------------------------------------------------------------------


def test_a_lead_whose_history_skips_mql_counts_as_mql(stage: Any) -> None:
    history = [
        {"lead_id": "l1", "status": "new", "changed_at": "2024-01-05T00:00:00Z"},
        {"lead_id": "l1", "status": "sql", "changed_at": "2024-01-07T12:00:00Z"},
    ]
    raw = stage({"leads": [lead("l1", "2024-01-05T00:00:00Z")], "lead_status_history": history})
    lifecycle = oracle.lead_lifecycle(raw, date(2024, 1, 31))
    assert lifecycle.loc[0, "mql_at"] == lifecycle.loc[0, "sql_at"] == pd.Timestamp("2024-01-07 12:00")
    funnel = oracle.funnel.funnel_conversion(raw, date(2024, 1, 31))
    assert funnel.loc[0, ["leads", "mqls", "sqls", "opportunities", "customers"]].tolist() == [1, 1, 1, 0, 0]
    assert funnel.loc[0, "median_days_to_mql"] == pytest.approx(2.5)
    assert funnel.loc[0, "median_days_mql_to_sql"] == 0.0


def test_an_opportunity_implies_sql_and_mql_and_a_won_deal_makes_a_customer(stage: Any) -> None:
    raw = stage(
        {
            "leads": [lead("l1", "2024-01-05T00:00:00Z"), lead("l2", "2024-01-06T00:00:00Z")],
            "opportunities": [
                opportunity("o1", "2024-01-10T06:00:00Z", "2024-02-14", "closed_won", source_lead_id="l1"),
                opportunity("o2", "2024-01-11T00:00:00Z", "2024-03-20", "closed_won", source_lead_id="l2"),
            ],
        }
    )
    funnel = oracle.funnel.funnel_conversion(raw, date(2024, 3, 1))
    january = funnel[funnel["cohort_month"] == pd.Timestamp("2024-01-01")].iloc[0]
    # l2's deal closes after the as-of date: an opportunity, not (yet) a customer.
    assert [january[c] for c in ["leads", "mqls", "sqls", "opportunities", "customers"]] == [2, 2, 2, 2, 1]
    assert january["win_rate"] == 0.5
    assert january["median_days_opportunity_to_won"] == 35.0


def test_status_changes_after_the_as_of_date_are_ignored(stage: Any) -> None:
    history = [{"lead_id": "l1", "status": "mql", "changed_at": "2024-02-01T00:00:00+01:00"}]
    raw = stage({"leads": [lead("l1", "2024-01-05T00:00:00Z")], "lead_status_history": history})
    assert oracle.funnel.funnel_conversion(raw, date(2024, 1, 31)).loc[0, "mqls"] == 1
    history = [{"lead_id": "l1", "status": "mql", "changed_at": "2024-02-01T00:00:00Z"}]
    raw = stage({"leads": [lead("l1", "2024-01-05T00:00:00Z")], "lead_status_history": history})
    assert oracle.funnel.funnel_conversion(raw, date(2024, 1, 31)).loc[0, "mqls"] == 0


def test_funnel_has_every_month_and_channel_and_zero_denominators_give_null(stage: Any) -> None:
    raw = stage(
        {
            "leads": [
                lead("l1", "2024-01-05T00:00:00Z"),
                lead("l2", "2024-03-05T00:00:00Z", channel="webinar"),
                lead("l3", "2024-03-06T00:00:00Z", channel="webinar"),
            ]
        }
    )
    funnel = oracle.funnel.funnel_conversion(raw, date(2024, 3, 31)).set_index(["cohort_month", "channel"])
    assert len(funnel) == 6  # 3 months x 2 channels
    february = funnel.loc[(pd.Timestamp("2024-02-01"), "email")]
    assert february["leads"] == 0 and february["leads_previous_month"] == 1
    assert math.isnan(february["mql_rate"]) and math.isnan(february["lead_to_customer_rate"])
    assert february["leads_growth_rate"] == -1.0
    march = funnel.loc[(pd.Timestamp("2024-03-01"), "webinar")]
    assert march["leads"] == 2 and march["mql_rate"] == 0.0 and math.isnan(march["sql_rate"])
    assert math.isnan(march["leads_growth_rate"]) and math.isnan(march["median_days_to_mql"])


# --- attribution and CAC -------------------------------------------------------------------------

CAMPAIGNS = [
    {
        "campaign_id": c,
        "campaign_name": c.upper(),
        "channel": "email",
        "started_on": "2024-01-01",
        "ended_on": "2024-01-31",
        "currency": "USD",
        "updated_at": "2024-01-01T00:00:00Z",
    }
    for c in ("c1", "c2", "c3")
]


def touch(touch_id: str, campaign_id: str, lead_id: str, touched_at: str) -> dict[str, str]:
    return {
        "touch_id": touch_id,
        "campaign_id": campaign_id,
        "lead_id": lead_id,
        "touched_at": touched_at,
        "touch_type": "click",
    }


def test_first_touch_uses_the_source_campaign_else_the_earliest_touch_of_a_known_campaign(stage: Any) -> None:
    raw = stage(
        {
            "campaigns": CAMPAIGNS,
            "leads": [
                lead("l1", "2024-01-05T00:00:00Z", source_campaign_id="c3"),
                lead("l2", "2024-01-05T00:00:00Z", source_campaign_id="gone"),
                lead("l3", "2024-01-05T00:00:00Z"),
            ],
            "campaign_touches": [
                touch("t1", "c1", "l1", "2024-01-01T00:00:00Z"),
                touch("t3", "c1", "l2", "2024-01-02T00:00:00Z"),
                touch("t2", "c2", "l2", "2024-01-02T00:00:00Z"),
                touch("t0", "gone", "l2", "2024-01-01T00:00:00Z"),
            ],
        }
    )
    attributed = oracle.first_touch_campaigns(raw, oracle.lead_lifecycle(raw, date(2024, 1, 31)))
    assert attributed.to_dict() == {"l1": "c3", "l2": "c2"}


def test_a_new_customer_is_attributed_once_at_its_first_won_deal(stage: Any) -> None:
    raw = stage(
        {
            "campaigns": CAMPAIGNS,
            "leads": [
                lead("l1", "2024-01-05T00:00:00Z", source_campaign_id="c1"),
                lead("l2", "2024-01-06T00:00:00Z", source_campaign_id="c2"),
            ],
            "opportunities": [
                opportunity("o2", "2024-01-07T00:00:00Z", "2024-02-10", "closed_won", source_lead_id="l2"),
                opportunity("o1", "2024-01-06T00:00:00Z", "2024-02-10", "closed_won", source_lead_id="l1"),
                opportunity("o3", "2024-01-08T00:00:00Z", "2024-02-20", "closed_lost", source_lead_id="l2"),
            ],
            "campaign_spend": [
                {"campaign_id": "c1", "spend_date": "2024-01-02", "amount": "100.005", "currency": "USD"},
                {"campaign_id": "c1", "spend_date": "2024-03-02", "amount": "50", "currency": "USD"},
            ],
        }
    )
    as_of = date(2024, 3, 2)
    cac = oracle.marketing.campaign_cac(raw, as_of)
    cac = cac[cac["attribution_rule"] == "first_touch"].set_index("campaign_id")
    assert cac.loc["c1", ["leads", "mqls", "new_customers"]].tolist() == [1, 1, 1]
    assert cac.loc["c2", ["leads", "mqls", "new_customers"]].tolist() == [1, 1, 0]
    assert cac.loc["c1", "spend"] == 150.01 and cac.loc["c1", "cac"] == 150.01
    assert cac.loc["c2", "attributed_revenue"] == 1000.0 and math.isnan(cac.loc["c2", "roi"])
    assert math.isnan(cac.loc["c2", "cac"])
    assert cac.loc["c3", ["spend", "leads"]].tolist() == [0.0, 0]
    assert math.isnan(cac.loc["c3", "cost_per_lead"])
    monthly = oracle.marketing.campaign_cac_monthly(raw, as_of)
    monthly = monthly[monthly["attribution_rule"] == "first_touch"]
    # January from the campaign's life, February (customers, revenue) and March (spend) from activity.
    c1 = monthly[monthly["campaign_id"] == "c1"].set_index("month")
    assert c1.index.tolist() == [pd.Timestamp(m) for m in ("2024-01-01", "2024-02-01", "2024-03-01")]
    assert c1["new_customers"].tolist() == [0, 1, 0] and c1["spend"].tolist() == [100.01, 0.0, 50.0]
    assert monthly[monthly["campaign_id"] == "c3"]["month"].tolist() == [pd.Timestamp("2024-01-01")]


# --- subscription months and churn ---------------------------------------------------------------


def subscription(subscription_id: str, account_id: str, start: str, end: str, mrr: str) -> dict[str, str]:
    return {
        "subscription_id": subscription_id,
        "account_id": account_id,
        "product_id": "p1",
        "period_start": start,
        "period_end": end,
        "mrr": mrr,
        "currency": "USD",
    }


def test_a_period_ending_on_the_last_day_of_a_month_is_not_active_that_month(stage: Any) -> None:
    raw = stage(
        {"accounts": [account("a1")], "subscriptions": [subscription("s1", "a1", "2024-01-15", "2024-03-31", "100")]}
    )
    months = oracle.subscription_months(raw, date(2024, 4, 10))
    assert months["is_active"].tolist() == [True, True, False, False]
    churn = oracle.customers.churn_by_cohort(raw, date(2024, 4, 10))
    assert churn["active_customers"].tolist() == [1, 1, 0, 0]
    assert churn["logo_retention"].tolist() == [1.0, 1.0, 0.0, 0.0]


def test_the_as_of_month_snapshots_at_the_as_of_date(stage: Any) -> None:
    raw = stage(
        {
            "accounts": [account("a1"), account("a2")],
            "subscriptions": [
                subscription("s1", "a1", "2024-01-01", "2024-01-20", "100"),
                subscription("s2", "a2", "2024-01-05", "", "50"),
            ],
        }
    )
    churn = oracle.customers.churn_by_cohort(raw, date(2024, 1, 10))
    assert churn[["cohort_size", "active_customers", "starting_mrr"]].values.tolist() == [[2, 2, 150.0]]


def test_churn_expansion_contraction_and_reactivation(stage: Any) -> None:
    raw = stage(
        {
            "accounts": [account("a1"), account("a2"), account("deleted", is_deleted="true")],
            "subscriptions": [
                subscription("s1", "a1", "2024-01-01", "2024-02-15", "100"),
                subscription("s1", "a1", "2024-02-15", "", "150"),  # expansion
                subscription("s2", "a2", "2024-01-10", "2024-02-01", "100"),
                subscription("s2", "a2", "2024-03-01", "", "40"),  # reactivated at a lower price
                subscription("s3", "deleted", "2024-01-01", "", "999"),
            ],
        }
    )
    churn = oracle.customers.churn_by_cohort(raw, date(2024, 3, 31))
    assert churn["months_since_start"].tolist() == [0, 1, 2]
    assert churn["cohort_size"].tolist() == [2, 2, 2]
    assert churn["active_customers"].tolist() == [2, 1, 2]
    assert churn["churned_customers"].tolist() == [0, 1, 0]
    assert churn["mrr"].tolist() == [200.0, 150.0, 190.0]
    assert churn["retained_mrr"].tolist() == [200.0, 100.0, 140.0]
    assert churn["net_revenue_retention"].tolist() == pytest.approx([1.0, 0.75, 0.95])
    assert churn["gross_revenue_retention"].tolist() == pytest.approx([1.0, 0.5, 0.7])


def test_a_cohort_with_zero_starting_mrr_has_null_revenue_retention(stage: Any) -> None:
    raw = stage({"accounts": [account("a1")], "subscriptions": [subscription("s1", "a1", "2024-01-01", "", "0")]})
    churn = oracle.customers.churn_by_cohort(raw, date(2024, 1, 31))
    assert churn.loc[0, "logo_retention"] == 1.0 and math.isnan(churn.loc[0, "gross_revenue_retention"])


# --- recognised revenue: one definition of refunds -----------------------------------------------


def test_a_refund_counts_in_its_own_month_at_its_own_rate_in_both_revenue_marts(stage: Any) -> None:
    rates = [
        {"currency": "EUR", "rate_date": "2024-01-01", "rate_to_reporting": "1.25"},
        {"currency": "EUR", "rate_date": "2024-03-01", "rate_to_reporting": "1.5"},
    ]
    invoices = [
        # 80 EUR issued in February at 1.25 = 100; refunded in full in March, when the rate is 1.5: 120.
        {
            "invoice_id": "i1",
            "account_id": "a1",
            "issued_on": "2024-02-01",
            "amount": "80",
            "currency": "EUR",
            "status": "paid",
        },
        # 33.335 USD: rounded half away from zero to 33.34 on its own row.
        {
            "invoice_id": "i2",
            "account_id": "a1",
            "issued_on": "2024-01-10",
            "amount": "33.335",
            "currency": "USD",
            "status": "paid",
        },
        # Open: its refund counts nowhere (nothing was collected).
        {
            "invoice_id": "i3",
            "account_id": "a1",
            "issued_on": "2024-01-11",
            "amount": "50",
            "currency": "USD",
            "status": "open",
        },
    ]
    refunds = [
        {"refund_id": "r1", "invoice_id": "i1", "refunded_on": "2024-03-20", "amount": "80", "currency": "EUR"},
        {"refund_id": "r3", "invoice_id": "i3", "refunded_on": "2024-01-12", "amount": "50", "currency": "USD"},
    ]
    raw = stage(
        {
            "leads": [lead("l1", "2024-01-05T00:00:00Z")],
            "accounts": [account("a1")],
            "exchange_rates": rates,
            "invoices": invoices,
            "refunds": refunds,
        }
    )
    as_of = date(2024, 3, 31)
    months = [pd.Timestamp("2024-01-01"), pd.Timestamp("2024-02-01"), pd.Timestamp("2024-03-01")]
    customers = oracle.customers.recognised_revenue(raw, as_of)
    customers = customers[customers["product_id"] == "all"].set_index("month")
    assert customers.index.tolist() == months
    assert customers["paid_revenue"].tolist() == [33.34, 100.0, 0.0]
    assert customers["refunded_amount"].tolist() == [0.0, 0.0, 120.0]
    assert customers["recognised_revenue"].tolist() == [33.34, 100.0, -120.0]
    assert customers["invoices"].tolist() == [2, 1, 0]
    by_period = oracle.sales.revenue_by_period(raw, as_of).set_index(["period_type", "period_start"])
    by_month = by_period.loc["month"]
    assert by_month.index.tolist() == months
    assert by_month["paid_invoices"].tolist() == [33.34, 100.0, 0.0]
    assert by_month["refunds"].tolist() == [0.0, 0.0, 120.0]
    assert by_month["recognised_revenue"].tolist() == [33.34, 100.0, -120.0]
    quarter = by_period.loc[("quarter", pd.Timestamp("2024-01-01"))]
    assert [quarter["paid_invoices"], quarter["refunds"], quarter["recognised_revenue"]] == [133.34, 120.0, 13.34]
    for column in ["paid_invoices", "refunds", "recognised_revenue"]:
        totals = by_period.groupby(level="period_type")[column].sum().round(2)
        assert totals.nunique() == 1, f"{column}: {totals.to_dict()}"


# --- revenue per rep -----------------------------------------------------------------------------


def test_revenue_per_rep_has_zero_months_and_credits_deals_at_close(stage: Any) -> None:
    other = USER | {"user_id": "u2", "full_name": "Bo", "role": "sdr", "hired_on": "2023-01-01", "left_on": ""}
    quotas = [
        {"quota_id": "q1", "user_id": "u1", "month_start": "2024-02-01", "amount": "1000", "currency": "USD"},
        {"quota_id": "q2", "user_id": "u1", "month_start": "2024-03-01", "amount": "0", "currency": "USD"},
        {"quota_id": "q3", "team_id": "t1", "month_start": "2024-02-01", "amount": "9", "currency": "USD"},
    ]
    raw = stage(
        {
            "users": [USER, other],
            "leads": [lead("l1", "2024-01-20T00:00:00Z")],
            "opportunities": [
                opportunity("o1", "2024-01-21T00:00:00Z", "2024-02-05", "closed_won", amount="500"),
                opportunity("o2", "2024-01-21T00:00:00Z", "2024-02-06", "closed_lost", amount="1500"),
                opportunity("o3", "2024-01-21T00:00:00Z", "2024-02-07", "closed_won", owner_user_id="u2"),
                opportunity("o4", "2024-03-31T00:00:00Z", "2024-05-07", "prospecting"),
            ],
            "quotas": quotas,
        }
    )
    revenue = oracle.sales.revenue_per_rep(raw, date(2024, 3, 31)).set_index(["user_id", "month"])
    # u1 from the first data month (January); u2 (an sdr) only because it closed a deal.
    assert revenue.index.tolist() == [
        ("u1", pd.Timestamp("2024-01-01")),
        ("u1", pd.Timestamp("2024-02-01")),
        ("u1", pd.Timestamp("2024-03-01")),
        ("u2", pd.Timestamp("2024-01-01")),
        ("u2", pd.Timestamp("2024-02-01")),
        ("u2", pd.Timestamp("2024-03-01")),
    ]
    february = revenue.loc[("u1", pd.Timestamp("2024-02-01"))]
    assert [february[c] for c in ["bookings", "won_deals", "lost_deals", "lost_amount"]] == [500.0, 1, 1, 1500.0]
    assert february["win_rate"] == 0.5 and february["amount_win_rate"] == 0.25
    assert february["quota"] == 1000.0 and february["quota_attainment"] == 0.5
    january = revenue.loc[("u1", pd.Timestamp("2024-01-01"))]
    assert january["bookings"] == 0.0 and math.isnan(january["win_rate"]) and math.isnan(january["quota"])
    assert math.isnan(january["quota_attainment"]) and math.isnan(january["average_deal_size"])
    assert math.isnan(revenue.loc[("u1", pd.Timestamp("2024-03-01")), "quota_attainment"])  # quota 0
    assert revenue.loc[("u2", pd.Timestamp("2024-02-01")), "role"] == "sdr"


# --- compare_frames ------------------------------------------------------------------------------


def test_compare_frames_names_mart_key_and_column() -> None:
    expected = pd.DataFrame(
        {"k": ["a", "b", "c"], "spend": [1.0, 2.0, 3.0], "rate": [0.5, None, 0.25], "month": ["2024-01-01"] * 3}
    )
    actual = pd.DataFrame(
        {
            "k": ["a", "b", "d"],
            "spend": [1.004, 2.5, 3.0],
            "rate": [0.5 + 1e-12, 0.1, 0.25],
            "month": [date(2024, 1, 1)] * 3,
        }
    )
    problems = compare_frames("kpi_x", expected, actual, ["k"], money_cols=["spend"])
    assert "kpi_x: key (k=c) missing from actual" in problems
    assert "kpi_x: key (k=d) not expected (extra in actual)" in problems
    assert any(p.startswith("kpi_x: key (k=b) column spend") for p in problems)
    assert any(p.startswith("kpi_x: key (k=b) column rate") for p in problems)
    assert len(problems) == 4
    assert compare_frames("kpi_x", expected, expected.copy(), ["k"], money_cols=["spend"]) == []


def test_absent_optional_tables_give_empty_marts_not_errors() -> None:
    raw = oracle.load_raw(Path(__file__).parent / "fixtures" / "required_tables_only")
    marts = oracle.all_marts(raw, oracle.as_of_date(raw))
    assert marts["kpi_campaign_cac"].empty and marts["kpi_campaign_cac_monthly"].empty
    assert marts["kpi_churn_by_cohort"].empty
    assert not marts["kpi_funnel_conversion"].empty and not marts["kpi_revenue_per_rep"].empty
    for name, columns in [
        ("kpi_funnel_conversion", oracle.funnel.FUNNEL_COLUMNS),
        ("kpi_campaign_cac", oracle.marketing.CAC_COLUMNS),
        ("kpi_campaign_cac_monthly", oracle.marketing.CAC_MONTHLY_COLUMNS),
        ("kpi_churn_by_cohort", oracle.customers.CHURN_COLUMNS),
        ("kpi_revenue_per_rep", oracle.sales.REVENUE_PER_REP_COLUMNS),
    ]:
        assert list(marts[name].columns) == columns


def test_naive_timestamp_after_an_offset_one_stays_utc() -> None:
    """pandas would apply the -08:00 of the first value to the naive second one; no offset means UTC."""
    parsed = oracle.parse_timestamps(pd.Series(["2026-10-31T10:00:00-08:00", "2026-10-31 17:37:00"]))
    assert parsed.tolist() == [pd.Timestamp("2026-10-31 18:00:00"), pd.Timestamp("2026-10-31 17:37:00")]
