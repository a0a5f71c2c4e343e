"""Attribution (M1-M3) and lead response (F6-F9) in the oracle, on tiny hand-made raw exports: conservation
under every rule, each customer attributed at most once per rule, touches after the conversion or outside the
window ignored, the position-based weights, null cost per lead, UTC response times from offset timestamps,
follow-up and never-touched leads; and conservation on the demo data."""

from __future__ import annotations

import math
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import oracle
from crm_kpi.paths import project_root
from oracle.marketing import ATTRIBUTION_RULES, deal_credits, rule_credits
from test_oracle_units import CAMPAIGNS, USER, lead, opportunity, touch, write_raw


@pytest.fixture
def stage(tmp_path: Path) -> Any:
    def load(tables: dict[str, list[dict[str, str]]]) -> oracle.Raw:
        return oracle.load_raw(write_raw(tmp_path, tables))

    return load


# --- attribution ---------------------------------------------------------------------------------

AS_OF = date(2024, 6, 30)


def attribution_export() -> dict[str, list[dict[str, str]]]:
    """Four won deals of three accounts (a1 wins twice) and a lost one, with touch paths of every kind."""
    return {
        "campaigns": CAMPAIGNS,
        "leads": [
            lead("l1", "2024-03-01T00:00:00Z", source_campaign_id="c1"),
            lead("l2", "2024-03-02T00:00:00Z", source_campaign_id="c2"),
            lead("l3", "2024-01-02T00:00:00Z"),
            lead("l4", "2024-03-04T00:00:00Z"),
        ],
        "campaign_touches": [
            touch("t1", "c1", "l1", "2024-03-01T00:00:00Z"),
            touch("t2", "c2", "l1", "2024-04-01T00:00:00Z"),
            touch("t3", "c3", "l1", "2024-04-20T00:00:00Z"),
            touch("t4", "c3", "l1", "2024-05-02T00:00:00Z"),  # after o1's close: ignored
            touch("t5", "c1", "l3", "2024-01-02T00:00:00Z"),  # 110 days before o3's close: outside
        ],
        "opportunities": [
            opportunity("o1", "2024-04-02T00:00:00Z", "2024-05-01", "closed_won", source_lead_id="l1", amount="900"),
            opportunity("o2", "2024-04-03T00:00:00Z", "2024-05-10", "closed_won", source_lead_id="l2", amount="300"),
            opportunity("o3", "2024-04-03T00:00:00Z", "2024-04-21", "closed_won", source_lead_id="l3", account_id="a2"),
            opportunity("o4", "2024-04-04T00:00:00Z", "2024-05-20", "closed_won", source_lead_id="l4", account_id="a3"),
            opportunity("o5", "2024-04-04T00:00:00Z", "2024-05-20", "closed_lost", source_lead_id="l1"),
        ],
    }


def test_every_rule_conserves_customers_and_revenue_and_credits_each_deal_once(stage: Any) -> None:
    raw = stage(attribution_export())
    credits = deal_credits(raw, AS_OF)
    per_deal = credits.groupby(["opportunity_id", "attribution_rule"])["credit"].sum()
    assert per_deal.to_numpy() == pytest.approx(1.0)
    assert per_deal.index.tolist() == [
        (o, rule) for o in ("o1", "o2", "o3", "o4") for rule in sorted(ATTRIBUTION_RULES)
    ]
    cac = oracle.marketing.campaign_cac(raw, AS_OF)
    totals = cac.groupby("attribution_rule")[["new_customers", "attributed_revenue"]].sum()
    # a1 (o1 first: o1 closes 05-01, o2 05-10), a2 (o3), a3 (o4): 3 new customers; 900 + 300 + 1000 + 1000 won.
    assert totals["new_customers"].tolist() == pytest.approx([3.0] * 4)
    assert totals["attributed_revenue"].tolist() == pytest.approx([3200.0] * 4)
    new = credits[credits["is_new_customer"]].groupby("attribution_rule")["credit"].sum()
    assert new.tolist() == pytest.approx([3.0] * 4)  # each new customer credited exactly 1 per rule


def test_touches_after_the_conversion_or_outside_the_window_are_ignored(stage: Any) -> None:
    raw = stage(attribution_export())
    credits = deal_credits(raw, AS_OF).set_index(["opportunity_id", "attribution_rule", "campaign_id"])["credit"]
    # o1 (closes 2024-05-01): t1 c1, t2 c2, t3 c3 in the window; t4 (05-02) after the close.
    assert credits.loc[("o1", "last_touch")].to_dict() == {"c3": 1.0}
    assert credits.loc[("o1", "linear")].to_dict() == pytest.approx({"c1": 1 / 3, "c2": 1 / 3, "c3": 1 / 3})
    assert credits.loc[("o1", "position_based")].to_dict() == pytest.approx({"c1": 0.4, "c2": 0.2, "c3": 0.4})
    assert credits.loc[("o1", "first_touch")].to_dict() == {"c1": 1.0}
    # o2: l2 has no touch, its source campaign c2 stands in.
    assert credits.loc[("o2", "linear")].to_dict() == {"c2": 1.0}
    # o3: l3's only touch is 110 days before the close: unattributed under the touch rules, not under first touch.
    unattributed = credits.loc["o3"].reset_index()
    assert unattributed[unattributed["attribution_rule"] != "first_touch"]["campaign_id"].isna().all()
    assert credits.loc[("o3", "first_touch")].to_dict() == {"c1": 1.0}
    # With a 120-day window the same touch counts.
    wide = deal_credits(raw, AS_OF, window_days=120).set_index(["opportunity_id", "attribution_rule"])
    assert wide.loc[("o3", "linear"), "campaign_id"].tolist() == ["c1"]


def test_position_based_gives_forty_twenty_forty() -> None:
    assert rule_credits(["a"])["position_based"] == {"a": 1.0}
    assert rule_credits(["a", "b"])["position_based"] == {"a": 0.5, "b": 0.5}
    four = rule_credits(["a", "b", "c", "a"])
    assert four["position_based"] == pytest.approx({"a": 0.8, "b": 0.1, "c": 0.1})
    assert four["linear"] == pytest.approx({"a": 0.5, "b": 0.25, "c": 0.25})
    assert four["last_touch"] == {"a": 1.0}


def test_unattributed_row_and_null_cost_per_lead_for_spend_without_leads(stage: Any) -> None:
    export = attribution_export()
    export["campaign_spend"] = [
        {"campaign_id": "c3", "spend_date": "2024-04-10", "amount": "500", "currency": "USD"},
    ]
    cac = oracle.marketing.campaign_cac(stage(export), AS_OF).set_index(["campaign_id", "attribution_rule"])
    c3 = cac.loc[("c3", "last_touch")]
    assert c3["spend"] == 500.0 and c3["leads"] == 0 and math.isnan(c3["cost_per_lead"])
    assert c3["new_customers"] == 1.0 and c3["cac"] == 500.0  # o1's last touch is c3: a1
    unattributed = cac.loc[("unattributed", "first_touch")]
    assert unattributed["leads"] == 1 and unattributed["new_customers"] == 1.0  # l4 (l3 has a touch); a3 via l4
    assert unattributed["spend"] == 0.0 and math.isnan(unattributed["roi"])


def test_demo_data_conserves_under_every_rule() -> None:
    raw = oracle.load_raw(project_root() / "seeds" / "demo")
    as_of = oracle.as_of_date(raw)
    customers = len(oracle.new_customers(raw, as_of))
    revenue = oracle.shared.won_deals(raw, as_of)["amount"].sum()
    for frame in (oracle.marketing.campaign_cac(raw, as_of), oracle.marketing.campaign_cac_monthly(raw, as_of)):
        totals = frame.groupby("attribution_rule")[["new_customers", "attributed_revenue"]].sum()
        assert totals.index.tolist() == sorted(ATTRIBUTION_RULES)
        # Each row's customers are rounded to 6 decimals: half a millionth per row at most.
        assert totals["new_customers"].to_numpy() == pytest.approx(customers, abs=5e-7 * len(frame))
        assert totals["attributed_revenue"].to_numpy() == pytest.approx(revenue, abs=0.005 * len(frame))


# --- lead response -------------------------------------------------------------------------------

SDR = USER | {"user_id": "u2", "full_name": "Sam", "email": "sam@example.com", "role": "sdr"}
MARKETER = USER | {"user_id": "u3", "full_name": "Mo", "email": "mo@example.com", "role": "marketing"}


def activity(activity_id: str, lead_id: str, user_id: str, occurred_at: str, **fields: str) -> dict[str, str]:
    row = {
        "activity_id": activity_id,
        "activity_type": "call",
        "direction": "outbound",
        "user_id": user_id,
        "lead_id": lead_id,
        "occurred_at": occurred_at,
        "outcome": "no_response",
    }
    return row | fields


def response_export() -> dict[str, list[dict[str, str]]]:
    return {
        "users": [USER, SDR, MARKETER],
        "teams": [{"team_id": "t1", "team_name": "One", "region": "emea", "updated_at": "2024-01-01T00:00:00Z"}],
        "team_memberships": [{"user_id": "u2", "team_id": "t1", "started_on": "2024-01-01"}],
        "leads": [
            # 23:30 at +03:30 is 20:00 UTC; called at 22:00 at +01:00 = 21:00 UTC: a one-hour response.
            lead("l1", "2025-03-01T23:30:00+03:30", owner_user_id="u2"),
            lead("l2", "2025-03-02T10:00:00Z", owner_user_id="u2"),  # never touched
            # 01:30 at +03:30 on March 1 is February 28, 22:00 UTC: a February lead.
            lead("l3", "2025-03-01T01:30:00+03:30", owner_user_id="u2"),
        ],
        "lead_status_history": [{"lead_id": "l1", "status": "mql", "changed_at": "2025-03-01T20:30:00Z"}],
        "activities": [
            activity("a1", "l1", "u3", "2025-03-01T20:10:00Z", activity_type="email"),  # a marketer: not a rep
            activity("a2", "l1", "u2", "2025-03-01T20:20:00Z", direction="inbound", outcome="positive"),
            activity("a3", "l1", "u2", "2025-03-01T22:00:00+01:00", outcome="meeting_booked"),
            activity("a4", "l3", "u2", "2025-02-28 23:00:00"),
        ],
    }


def test_response_time_is_measured_in_utc_from_offset_timestamps(stage: Any) -> None:
    raw = stage(response_export())
    response = oracle.funnel.lead_response(raw, date(2025, 3, 2))
    months = response[(response["period_type"] == "month") & (response["grouping_level"] == "rep")]
    months = months.set_index("period_start")
    march, february = months.loc[pd.Timestamp("2025-03-01")], months.loc[pd.Timestamp("2025-02-01")]
    assert march["leads"] == 2 and march["leads_responded"] == 1 and march["leads_never_touched"] == 1
    assert march["median_response_days"] == pytest.approx(1 / 24) == march["p90_response_days"]
    assert february["leads"] == 1 and february["median_response_days"] == pytest.approx(1 / 24)
    # MQL at 20:30 UTC, first outbound rep activity after it at 21:00: half an hour, followed up.
    assert march["mqls"] == 1 and march["median_mql_response_days"] == pytest.approx(1 / 48)
    assert march["follow_up_rate"] == 1.0
    # l1 was contacted and booked a meeting (a3); l3 was contacted, no response.
    assert march["prospects_contacted"] == 1 and march["meeting_booking_rate"] == 1.0
    assert february["prospects_contacted"] == 1 and february["positive_response_rate"] == 0.0
    assert math.isnan(february["meeting_booking_rate"])
    teams = response[(response["period_type"] == "month") & (response["grouping_level"] == "team")]
    assert teams["group_id"].unique().tolist() == ["t1"]


def test_follow_up_is_within_n_days_of_the_mql(stage: Any) -> None:
    export = response_export()
    export["lead_status_history"] = [{"lead_id": "l2", "status": "mql", "changed_at": "2025-03-02T10:00:00Z"}]
    export["activities"] = [activity("a9", "l2", "u2", "2025-03-04T10:00:01Z")]  # 2 days and a second later
    worked = oracle.funnel.leads_worked(stage(export), date(2025, 3, 5)).set_index("lead_id")
    assert worked.loc["l2", "mql_response_days"] == pytest.approx(2 + 1 / 86400)
    assert not worked.loc["l2", "mql_response_days"] <= oracle.funnel.FOLLOW_UP_DAYS
