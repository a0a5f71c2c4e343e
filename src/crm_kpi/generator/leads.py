"""Leads of a chunk: creation times (days from the world's seasonal distribution, local business hours,
some around month boundaries), country, source campaign and channel, owner slot, and the status lifecycle
new -> working -> mql -> sql -> converted with exits, skipped history rows and the cut at the end.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from crm_kpi.contract import CHANNELS, LEAD_STATUSES
from crm_kpi.generator.constants import (
    CH,
    CHANNEL_PROFILES,
    CHUNK_LEADS,
    COUNTRIES,
    DAY,
    DEFECT_LEAD_INDEX,
    HOUR,
    REGION_WEIGHTS,
    Arr,
)
from crm_kpi.generator.helpers import _choice, _lognormal, _month_start_days
from crm_kpi.generator.rendering import OFFSET_SECONDS
from crm_kpi.generator.world import World, _pick_campaigns

STATUS = {name: index for index, name in enumerate(LEAD_STATUSES)}
NEW, WORKING, MQL, SQL, CONVERTED, DISQUALIFIED, RECYCLED = range(7)


@dataclass
class Leads:
    number: Arr  # global 1-based lead number
    created: Arr  # UTC seconds
    country: Arr
    region: Arr
    campaign: Arr  # -1: none
    channel: Arr
    owner_slot: Arr
    owner_role_bdr: Arr
    has_owner: Arr
    touched: Arr
    boundary: Arr  # created around a month boundary, rendered in local time
    times: Arr  # (n, 6) status times: new, working, mql, sql, converted, exit; -1 when absent
    written: Arr  # (n, 6) whether the row is in the history (mql/working may be skipped)
    exit_status: Arr  # DISQUALIFIED / RECYCLED / -1
    defect: Arr


def _lead_times(world: World, rng: np.random.Generator, n: int) -> tuple[Arr, Arr, Arr]:
    """Creation times (UTC seconds), country and the month-boundary flag."""
    country_weights = [REGION_WEIGHTS[c.region] * c.weight for c in COUNTRIES]
    country = _choice(rng, country_weights, n)
    day = np.searchsorted(world.day_cdf, rng.random(n), side="right").clip(0, world.n_days - 1)
    business = rng.random(n) < 0.88
    local = np.where(business, rng.normal(11.5 * HOUR, 2.6 * HOUR, n).clip(7 * HOUR, 20 * HOUR), rng.random(n) * DAY)
    created = (world.start_day + day) * DAY + local.astype(np.int64) - OFFSET_SECONDS[country]
    boundary = np.zeros(n, dtype=bool)
    month_starts = _month_start_days(world.start_day + 1, world.end_day)
    if len(month_starts) and n >= 20:
        picks = rng.choice(n, size=max(4, n // 400), replace=False)
        negative = np.arange(len(picks)) % 2 == 0
        month = month_starts[rng.integers(0, len(month_starts), len(picks))]
        us = next(i for i, c in enumerate(COUNTRIES) if c.code == "US")
        positive_pool = np.array([i for i, c in enumerate(COUNTRIES) if c.offset_minutes >= 180])
        chosen = np.where(negative, us, positive_pool[rng.integers(0, len(positive_pool), len(picks))])
        offset = OFFSET_SECONDS[chosen]
        late_evening = (month - 1) * DAY + rng.integers(20 * HOUR, DAY - 60, len(picks))  # local, last day
        small_hours = month * DAY + (rng.random(len(picks)) * (offset - 60)).astype(np.int64)  # local, 1st
        created[picks] = np.where(negative, late_evening, small_hours) - offset
        country[picks] = chosen
        boundary[picks] = True
    created = np.clip(created, world.start_s, world.end_cut - 1)
    return created, country, boundary


def _lead_lifecycle(world: World, rng: np.random.Generator, leads: Leads) -> None:
    """Status times: new -> working -> mql -> sql -> converted, exits, skipped rows, cut at the end."""
    n = len(leads.created)
    profile = [CHANNEL_PROFILES[name] for name in CHANNELS]
    p_mql = np.array([p.p_mql for p in profile])[leads.channel]
    p_sql = np.array([p.p_sql for p in profile])[leads.channel]
    p_conv = np.array([p.p_convert for p in profile])[leads.channel]
    role = np.where(leads.owner_role_bdr, 1, 0)
    rep = np.where(
        role == 1,
        world.owner("bdr", leads.region, leads.owner_slot, leads.created),
        world.owner("sdr", leads.region, leads.owner_slot, leads.created),
    )
    speed = np.array([user.speed for user in world.users])[rep]
    response = np.clip(_lognormal(rng, 3.0 * HOUR * speed, 1.3, n), 300, 12 * DAY)
    times = np.full((n, 6), -1, dtype=np.int64)
    times[:, NEW] = leads.created
    reached = np.zeros((n, 6), dtype=bool)
    reached[:, NEW] = True
    reached[:, WORKING] = leads.touched
    times[:, WORKING] = leads.created + response.astype(np.int64)
    step_median = {MQL: 4.0 * DAY, SQL: 7.0 * DAY, CONVERTED: 5.0 * DAY}
    chance = {MQL: p_mql, SQL: p_sql, CONVERTED: p_conv}
    for status in (MQL, SQL, CONVERTED):
        gap = np.clip(_lognormal(rng, step_median[status], 0.8, n), HOUR, 120 * DAY).astype(np.int64)
        times[:, status] = times[:, status - 1] + gap
        reached[:, status] = reached[:, status - 1] & (rng.random(n) < chance[status])
    for status in range(6):
        reached[:, status] &= (times[:, status] < world.end_cut) | (status == NEW)
    for status in (MQL, SQL, CONVERTED):
        reached[:, status] &= reached[:, status - 1]
    last = np.where(reached[:, :5], np.arange(5), -1).max(axis=1)
    # exits: stalled at the last step reached (not converted): disqualified, recycled or nothing
    kind = _choice(rng, (0.62, 0.22, 0.16), n)
    exit_gap = np.clip(_lognormal(rng, 12.0 * DAY, 0.9, n), DAY, 200 * DAY).astype(np.int64)
    untouched_exit = ~leads.touched & (rng.random(n) < 0.3)
    exit_time = times[np.arange(n), last] + exit_gap
    has_exit = (last != CONVERTED) & (kind < 2) & (exit_time < world.end_cut) & (leads.touched | untouched_exit)
    has_exit &= ~leads.defect
    times[:, 5] = np.where(has_exit, exit_time, -1)
    reached[:, 5] = has_exit
    times[~reached] = -1
    written = reached.copy()
    skip_mql = reached[:, SQL] & (rng.random(n) < 0.08)
    skip_working = reached[:, MQL] & (leads.channel != CH["outbound"]) & (rng.random(n) < 0.05)
    written[:, MQL] &= ~skip_mql
    written[:, WORKING] &= ~skip_working
    leads.times = times
    leads.written = written
    leads.exit_status = np.where(has_exit, np.where(kind == 0, DISQUALIFIED, RECYCLED), -1)


def _make_leads(world: World, rng: np.random.Generator, chunk: int, n: int) -> Leads:
    created, country, boundary = _lead_times(world, rng, n)
    order = np.argsort(created, kind="stable")
    created, country, boundary = created[order], country[order], boundary[order]
    region = np.array([c.region for c in COUNTRIES])[country]
    defect = np.zeros(n, dtype=bool)
    if chunk == 0 and n > DEFECT_LEAD_INDEX:
        defect[DEFECT_LEAD_INDEX] = True
        boundary[DEFECT_LEAD_INDEX] = False
    campaign = np.where((rng.random(n) < 0.9) & ~defect, _pick_campaigns(world, rng, region, created), -1)
    sourceless_channel = np.array([CH["organic"], CH["outbound"], CH["referral"]])[_choice(rng, (0.4, 0.35, 0.25), n)]
    channel = np.where(campaign >= 0, world.campaign_channel[np.maximum(campaign, 0)], sourceless_channel)
    has_owner = rng.random(n) >= 0.03
    touched = has_owner & (rng.random(n) >= 0.045) & ~defect
    leads = Leads(
        number=chunk * CHUNK_LEADS + np.arange(1, n + 1),
        created=created,
        country=country,
        region=region,
        campaign=campaign,
        channel=channel,
        owner_slot=np.zeros(n, dtype=np.int64),
        owner_role_bdr=channel == CH["outbound"],
        has_owner=has_owner,
        touched=touched,
        boundary=boundary,
        times=np.empty((0, 6)),
        written=np.empty((0, 6)),
        exit_status=np.empty(0),
        defect=defect,
    )
    sdr_slot = world.slots(rng, "sdr", region)
    bdr_slot = world.slots(rng, "bdr", region)
    leads.owner_slot = np.where(leads.owner_role_bdr, bdr_slot, sdr_slot)
    _lead_lifecycle(world, rng, leads)
    return leads


def _lead_status(leads: Leads) -> Arr:
    """Current status = the last row of the written history (exits win, then the furthest stage)."""
    has_exit = leads.exit_status >= 0
    furthest = np.where(leads.written[:, :5], np.arange(5), -1).max(axis=1)
    return np.where(has_exit, leads.exit_status, furthest)


def _lead_last_change(leads: Leads) -> Arr:
    return np.asarray(np.where(leads.written, leads.times, -1).max(axis=1), dtype=np.int64)
