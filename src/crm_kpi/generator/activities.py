"""Activities, touches, invoices, surveys: what happens around leads, deals and customers over time.

SDR work on leads, AE work on deals and AM check-ins on customers; the campaign touches of leads;
monthly invoices of subscription periods; customer NPS and CSAT survey responses.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from crm_kpi.contract import CHANNELS
from crm_kpi.generator.constants import (
    ACCOUNT_ACTIVITY_MIX,
    CH,
    DAY,
    DEAL_OUTCOMES,
    FOLLOW_UP_OUTCOMES,
    HOUR,
    LEAD_ACTIVITY_MIX,
    OPP_ACTIVITY_MIX,
    TOUCH_MIX,
    Arr,
)
from crm_kpi.generator.customers import NO_END, ChunkDeals, Periods, Subs
from crm_kpi.generator.deals import Accounts
from crm_kpi.generator.helpers import _choice, _rank_within, _segment_starts
from crm_kpi.generator.leads import MQL, SQL, WORKING, Leads
from crm_kpi.generator.world import World, _pick_campaigns


@dataclass
class Activities:
    time: Arr
    user: Arr
    lead: Arr  # local lead index or -1
    deal: Arr  # local deal index or -1
    account: Arr  # local account index or -1
    kind: Arr
    inbound: Arr
    outcome: Arr  # -1: empty


def _spread(rng: np.random.Generator, begin: Arr, finish: Arr, count: Arr) -> tuple[Arr, Arr]:
    """`count` moments per row, uniform in [begin, finish); returns (row, moment)."""
    row = np.repeat(np.arange(len(count)), count)
    moment = begin[row] + (rng.random(len(row)) * np.maximum(finish[row] - begin[row], 1)).astype(np.int64)
    return row, moment


def _lead_activities(world: World, rng: np.random.Generator, leads: Leads) -> Activities:
    n = len(leads.created)
    touched = leads.times[:, WORKING] >= 0
    first_time = leads.times[:, WORKING]
    last_status = np.where(leads.times >= 0, leads.times, 0).max(axis=1)
    horizon = np.minimum(np.maximum(last_status, first_time + 21 * DAY), world.end_cut - 1)
    reached_mql = leads.times[:, MQL] >= 0
    reached_sql = leads.times[:, SQL] >= 0
    follow = np.where(touched, rng.poisson(3.5 + 3.0 * reached_mql + 3.0 * reached_sql), 0)
    row_f, time_f = _spread(rng, first_time + 600, horizon, follow)
    first = np.flatnonzero(touched)
    positive = np.flatnonzero(reached_mql)
    meeting = np.flatnonzero(reached_sql)
    time_p = np.maximum(
        leads.times[positive, MQL] - rng.integers(HOUR // 2, 2 * DAY, len(positive)), first_time[positive] + 60
    )
    time_m = np.maximum(
        leads.times[meeting, SQL] - rng.integers(HOUR, 3 * DAY, len(meeting)), first_time[meeting] + 120
    )
    row = np.concatenate([first, row_f, positive, meeting])
    time = np.concatenate([first_time[first], time_f, time_p, time_m])
    n_f, n_p, n_m = len(row_f), len(positive), len(meeting)
    kind = np.concatenate(
        [
            _choice(rng, (0.55, 0.45), len(first)),
            _choice(rng, LEAD_ACTIVITY_MIX, n_f),
            _choice(rng, (0.4, 0.6), n_p),
            np.full(n_m, 2),
        ]
    )
    inbound = np.concatenate(
        [np.zeros(len(first), bool), rng.random(n_f) < 0.1, rng.random(n_p) < 0.5, np.zeros(n_m, bool)]
    )
    outcome = np.concatenate(
        [
            _choice(rng, (0.7, 0.0, 0.25, 0.05, 0.0), len(first)),
            _choice(rng, FOLLOW_UP_OUTCOMES, n_f),
            np.full(n_p, 1),
            np.full(n_m, 4),
        ]
    )
    outcome = np.where((rng.random(len(outcome)) < 0.04) & (outcome != 1) & (outcome != 4), -1, outcome)
    keep = time < world.end_cut
    row, time, kind, inbound, outcome = row[keep], time[keep], kind[keep], inbound[keep], outcome[keep]
    role_bdr = leads.owner_role_bdr[row]
    user = np.where(
        role_bdr,
        world.owner("bdr", leads.region[row], leads.owner_slot[row], time),
        world.owner("sdr", leads.region[row], leads.owner_slot[row], time),
    )
    minus = np.full(len(row), -1)
    del n
    return Activities(time, user, row, minus, minus, kind, inbound, outcome)


def _deal_activities(world: World, rng: np.random.Generator, cd: ChunkDeals, accounts: Accounts) -> Activities:
    deals, outcome = cd.deals, cd.outcome
    stages = np.minimum(outcome.stage, 3) + np.where(outcome.closed, 1, 0)
    finish = np.minimum(deals.close, world.end_cut - 1)
    count = rng.poisson(3.5 + 4.0 * stages)
    row, time = _spread(rng, deals.created + 300, finish, count)
    role_am = deals.owner_role_am[row]
    region = accounts.region[deals.account[row]]
    user = np.where(
        role_am,
        world.owner("am", region, deals.owner_slot[row], time),
        world.owner("ae", region, deals.owner_slot[row], time),
    )
    kind = _choice(rng, OPP_ACTIVITY_MIX, len(row))
    inbound = rng.random(len(row)) < 0.15
    result = np.where(rng.random(len(row)) < 0.08, -1, _choice(rng, DEAL_OUTCOMES, len(row)))
    return Activities(time, user, np.full(len(row), -1), row, deals.account[row], kind, inbound, result)


def _account_activities(world: World, rng: np.random.Generator, subs: Subs, accounts: Accounts) -> Activities:
    horizon = np.minimum(subs.churn_day, world.end_day + 1) * DAY
    begin = subs.start_day * DAY + 7 * DAY
    months = np.maximum(horizon - begin, 0) / (30.4 * DAY)
    row, time = _spread(rng, begin, horizon, rng.poisson(months * 0.9))
    time = np.minimum(time, world.end_cut - 1)
    account = subs.account[row]
    user = world.owner("am", accounts.region[account], accounts.am_slot[account], time)
    kind = _choice(rng, ACCOUNT_ACTIVITY_MIX, len(row))
    result = np.where(rng.random(len(row)) < 0.15, -1, _choice(rng, (0.2, 0.3, 0.4, 0.1, 0.0), len(row)))
    minus = np.full(len(row), -1)
    return Activities(time, user, minus, minus, account, kind, rng.random(len(row)) < 0.25, result)


@dataclass
class Touches:
    lead: Arr
    campaign: Arr
    time: Arr
    kind: Arr


def _touches(world: World, rng: np.random.Generator, leads: Leads) -> Touches:
    sourced = np.flatnonzero(leads.campaign >= 0)
    campaign = leads.campaign[sourced]
    burst = np.isin(world.campaign_channel[campaign], [CH["events"], CH["webinar"]])
    lead_before = np.where(
        rng.random(len(sourced)) < 0.65,
        rng.integers(0, 300, len(sourced)),
        rng.exponential(2.0 * DAY, len(sourced)).astype(np.int64),
    )
    campaign_begin = world.campaign_start[campaign] * DAY
    first_time = np.maximum(leads.created[sourced] - lead_before, np.minimum(campaign_begin, leads.created[sourced]))
    first_kind = np.where(burst, 3, np.where(rng.random(len(sourced)) < 0.65, 2, 1))
    count = np.where(leads.defect, 0, rng.poisson(np.where(leads.campaign >= 0, 2.0, 1.0)))
    row = np.repeat(np.arange(len(leads.created)), count)
    later = leads.created[row] + 60 + rng.exponential(30.0 * DAY, len(row)).astype(np.int64)
    picked = _pick_campaigns(world, rng, leads.region[row], later)
    keep = (later < world.end_cut) & (picked >= 0)
    row, later, picked = row[keep], later[keep], picked[keep]
    mix = np.array([TOUCH_MIX[name] for name in CHANNELS])[world.campaign_channel[picked]]
    later_kind = (rng.random(len(row))[:, None] > np.cumsum(mix, axis=1)).sum(axis=1).clip(0, 4)
    lead = np.concatenate([sourced, row])
    time = np.concatenate([first_time, later])
    order = np.lexsort((time, lead))
    return Touches(
        lead[order],
        np.concatenate([campaign, picked])[order],
        time[order],
        np.concatenate([first_kind, later_kind])[order],
    )


@dataclass
class Invoices:
    sub: Arr
    issued: Arr
    amount: Arr
    status: Arr
    first: Arr


def _invoices(world: World, rng: np.random.Generator, periods: Periods) -> Invoices:
    """Monthly invoices: on a subscription's start, then on the 1st of every month a period covers."""
    finish = np.minimum(periods.end_day, world.end_day + 1)
    month_index = periods.start_day.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)
    month_first = month_index.astype("datetime64[M]").astype("datetime64[D]").astype(np.int64)
    first_month = np.where(month_first == periods.start_day, month_index, month_index + 1)
    last_month = (finish - 1).astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)
    monthly = np.maximum(last_month - first_month + 1, 0)
    opening = periods.first & (month_first != periods.start_day)
    row, rank = np.repeat(np.arange(len(monthly)), monthly), None
    rank = _rank_within(row) if len(row) else np.zeros(0, dtype=np.int64)
    issued_m = (first_month[row] + rank).astype("datetime64[M]").astype("datetime64[D]").astype(np.int64)
    open_rows = np.flatnonzero(opening)
    rows = np.concatenate([open_rows, row])
    issued = np.concatenate([periods.start_day[open_rows], issued_m])
    order = np.lexsort((issued, periods.sub[rows]))
    rows, issued = rows[order], issued[order]
    sub = periods.sub[rows]
    recent = issued > world.end_day - 35
    status = np.where(
        recent, np.where(rng.random(len(rows)) < 0.55, 1, 0), _choice(rng, (0.95, 0.005, 0.02, 0.025), len(rows))
    )
    return Invoices(sub, issued, periods.mrr[rows], status, _segment_starts(sub))


@dataclass
class Surveys:
    sub: Arr
    kind: Arr  # 0 nps, 1 csat
    time: Arr
    score: Arr
    with_product: Arr


def _surveys(world: World, rng: np.random.Generator, subs: Subs) -> Surveys:
    horizon = np.minimum(subs.churn_day, world.end_day + 1) * DAY
    begin = subs.start_day * DAY + 14 * DAY
    months = np.maximum(horizon - begin, 0) / (30.4 * DAY)
    nps_row, nps_time = _spread(rng, begin, horizon, rng.poisson(months / 6.0 * 0.8))
    csat_row, csat_time = _spread(rng, begin, horizon, rng.poisson(months / 3.0 * 0.35))
    row = np.concatenate([nps_row, csat_row])
    kind = np.concatenate([np.zeros(len(nps_row), np.int64), np.ones(len(csat_row), np.int64)])
    time = np.minimum(np.concatenate([nps_time, csat_time]), world.end_cut - 1)
    health = subs.health[row] - 0.8 * (subs.churn_day[row] < NO_END)
    noise = rng.standard_normal(len(row))
    nps = np.clip(np.round(7.4 + 1.5 * health + 1.3 * noise), 0, 10)
    csat = np.clip(np.round(7.9 + 1.1 * health + 1.0 * noise), 1, 10)
    score = np.where(kind == 0, nps, csat).astype(np.int64)
    order = np.argsort(time, kind="stable")
    with_product = rng.random(len(row)) < np.where(kind == 0, 0.4, 0.85)
    return Surveys(row[order], kind[order], time[order], score[order], with_product[order])
