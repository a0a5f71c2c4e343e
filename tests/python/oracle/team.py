"""Team KPI marts from the raw CSVs: T1 employee NPS per team and quarter."""

from __future__ import annotations

from datetime import date

import pandas as pd

from oracle.registry import mart
from oracle.shared import reporting_periods, safe_ratio
from oracle.staging import Raw

ENPS_MIN_RESPONSES = 3  # dbt var enps_min_responses (default)
ENPS_COLUMNS = [
    "quarter_start",
    "quarter_end",
    "team_id",
    "team_name",
    "respondents",
    "is_suppressed",
    "promoters",
    "passives",
    "detractors",
    "enps",
]


def answers_in_teams(raw: Raw) -> pd.DataFrame:
    """Each employee answer with the team the user was a member of on the day of the answer (started_on to
    ended_on inclusive; the latest stint, then the lowest team_id, when two overlap); answers outside any team
    are dropped."""
    responses = raw["employee_survey_responses"].assign(responded_on=lambda frame: frame["responded_at"].dt.normalize())
    stints = responses.merge(raw["team_memberships"], on="user_id", how="inner")
    stints = stints[
        (stints["started_on"] <= stints["responded_on"])
        & (stints["ended_on"].isna() | (stints["ended_on"] >= stints["responded_on"]))
    ]
    stints = stints.sort_values(["response_id", "started_on", "team_id"], ascending=[True, False, True])
    return stints.drop_duplicates("response_id", keep="first")


@mart("kpi_employee_nps")
def employee_nps(raw: Raw, as_of: date) -> pd.DataFrame:
    """kpi_employee_nps: quarter x team: respondents (latest answer per user and quarter, in the team of that
    answer), eNPS and its counts, null below the minimum number of respondents."""
    answers = answers_in_teams(raw)
    quarters = reporting_periods(raw, as_of, ["quarter"])
    answers = answers.merge(quarters, how="cross")
    answers = answers[
        (answers["responded_on"] >= answers["period_start"]) & (answers["responded_on"] <= answers["snapshot"])
    ]
    if answers.empty:
        return pd.DataFrame(columns=ENPS_COLUMNS)
    latest = answers.sort_values(["responded_at", "response_id"]).drop_duplicates(
        ["period_start", "user_id"], keep="last"
    )
    score = latest["score"]
    latest = latest.assign(
        promoter=(score >= 9).astype("int64"),
        passive=((score >= 7) & (score <= 8)).astype("int64"),
        detractor=(score <= 6).astype("int64"),
    )
    sums = latest.groupby(["period_start", "team_id"], as_index=False).agg(
        respondents=("user_id", "count"),
        promoters=("promoter", "sum"),
        passives=("passive", "sum"),
        detractors=("detractor", "sum"),
    )
    teams = pd.DataFrame({"team_id": sorted(raw["team_memberships"]["team_id"].dropna().unique())})
    teams = teams.merge(raw["teams"][["team_id", "team_name"]], on="team_id", how="left")
    rows = quarters[["period_start", "period_end"]].merge(teams, how="cross")
    rows = rows.merge(sums, on=["period_start", "team_id"], how="left")
    rows["respondents"] = rows["respondents"].fillna(0).astype("int64")
    rows["is_suppressed"] = rows["respondents"] < ENPS_MIN_RESPONSES
    shown = ~rows["is_suppressed"]
    for column in ["promoters", "passives", "detractors"]:
        rows[column] = rows[column].astype("Int64").where(shown)
    rows["enps"] = safe_ratio(100 * (rows["promoters"] - rows["detractors"]), rows["respondents"]).where(shown)
    rows = rows.rename(columns={"period_start": "quarter_start", "period_end": "quarter_end"})
    return rows[ENPS_COLUMNS].sort_values(["quarter_start", "team_id"]).reset_index(drop=True)
