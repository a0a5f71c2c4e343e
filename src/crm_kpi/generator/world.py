"""The world: users, teams, campaigns (small, plain Python, seeded from ``seed`` only).

Users and the rep slots they hold (hires, leavers and their successors, a team move, soft-deleted
ghosts), the owner of every (role, region, slot) on each day, the campaigns' calendars and pick weights
per (region, day) with the pick itself, and the distribution of lead creation over the days of the range.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pyarrow as pa

from crm_kpi.generator.constants import CAMPAIGN_PLANS, CH, COUNTRIES, DAY, REGIONS, Arr, _campaign_start
from crm_kpi.generator.helpers import _choice, _epoch_day, _month_of, _rng
from crm_kpi.generator.rendering import _take

ROLE_SLOTS = {"sdr": (2, 2, 1, 2), "bdr": (1, 1, 1, 1), "ae": (4, 3, 2, 2), "am": (2, 1, 1, 1)}
REP_ROLES = ("sdr", "bdr", "ae", "am")


@dataclass
class User:
    index: int
    full_name: str
    email: str
    role: str
    region: int
    country: int
    hired_day: int  # epoch day
    left_day: int | None = None
    manager: int | None = None
    deleted: bool = False
    win: float = 1.0
    size: float = 1.0
    speed: float = 1.0
    stints: list[tuple[int, int, int | None]] = field(default_factory=list)  # team, from, to (epoch days)

    @property
    def user_id(self) -> str:
        return f"usr_{self.index + 1:04d}"


@dataclass
class World:
    seed: int
    start_day: int
    end_day: int
    users: list[User]
    # role -> (region, slot, day) user index; slots of a region beyond its count repeat slot 0
    owner_lookup: dict[str, Arr]
    slot_count: dict[str, Arr]
    campaign_start: Arr  # epoch day
    campaign_end: Arr  # epoch day, inclusive (end of range when running)
    campaign_running_at_end: Arr
    campaign_channel: Arr
    campaign_region: Arr
    campaign_weight: Arr
    campaign_flat: Arr  # cumulative pick weights per (region, day), see _pick_campaigns
    campaign_rows: Arr  # 1 if (region, day) has any campaign
    day_cdf: Arr  # lead-creation distribution over the range's days

    @property
    def n_days(self) -> int:
        return self.end_day - self.start_day + 1

    @property
    def start_s(self) -> int:
        return self.start_day * DAY

    @property
    def end_cut(self) -> int:
        """First second after the range: nothing happens at or after it."""
        return (self.end_day + 1) * DAY

    def user_ids(self, index: Arr, null: Arr | None = None) -> pa.Array:
        return _take([user.user_id for user in self.users], np.maximum(index, 0), null)

    def owner(self, role: str, region: Arr, slot: Arr, seconds: Arr) -> Arr:
        day = np.clip(np.asarray(seconds, dtype=np.int64) // DAY - self.start_day, 0, self.n_days - 1)
        lookup = self.owner_lookup[role]
        # np.where evaluates both roles' lookups: clip slots of the other role into range
        return np.asarray(lookup[region, np.minimum(slot, lookup.shape[1] - 1), day], dtype=np.int64)

    def slots(self, rng: np.random.Generator, role: str, region: Arr) -> Arr:
        return np.floor(rng.random(len(region)) * self.slot_count[role][region]).astype(np.int64)


def _country_choice(rng: np.random.Generator, region: int) -> int:
    members = [index for index, country in enumerate(COUNTRIES) if country.region == region]
    weights = [COUNTRIES[index].weight for index in members]
    return members[int(_choice(rng, weights, 1)[0])]


def _person_name(rng: np.random.Generator, country: int) -> tuple[str, str]:
    spec = COUNTRIES[country]
    first, last = int(rng.integers(len(spec.firsts))), int(rng.integers(len(spec.lasts)))
    native = (
        f"{spec.lasts[last]} {spec.firsts[first]}" if spec.family_first else f"{spec.firsts[first]} {spec.lasts[last]}"
    )
    if spec.code == "CN":
        native = spec.lasts[last] + spec.firsts[first]
    latin = f"{spec.firsts_latin[first]}.{spec.lasts_latin[last]}".lower()
    return native, latin


def _build_users(
    rng: np.random.Generator, start_day: int, end_day: int
) -> tuple[list[User], dict[str, list[list[list[tuple[int, int]]]]]]:
    """Users and the slots they hold: slots[role][region][slot] = [(user index, first day in charge)]."""
    n_days = end_day - start_day + 1
    users: list[User] = []
    emails: set[str] = set()
    names: set[str] = set()

    def add(role: str, region: int, hired_day: int, manager: int | None) -> User:
        country = _country_choice(rng, region)
        name, latin = _person_name(rng, country)
        for _ in range(50):  # colleagues get distinct names
            if name not in names:
                break
            name, latin = _person_name(rng, country)
        names.add(name)
        email = f"{latin}@crmkpi.example"
        if email in emails:
            email = f"{latin}{len(users) + 1}@crmkpi.example"
        emails.add(email)
        user = User(len(users), name, email, role, region, country, hired_day, manager=manager)
        user.win = float(np.clip(np.exp(rng.normal(0, 0.3)), 0.55, 1.7))
        user.size = float(np.clip(np.exp(rng.normal(0, 0.25)), 0.6, 1.6))
        user.speed = float(np.clip(np.exp(rng.normal(0, 0.5)), 0.3, 3.0))
        users.append(user)
        return user

    def veteran() -> int:
        return start_day - int(rng.integers(60, 1800))

    head = add("manager", 0, veteran(), None)
    managers = [add("manager", region, veteran(), head.index) for region in range(len(REGIONS))]
    for region, manager in enumerate(managers):
        manager.stints.append((region, manager.hired_day, None))
    slots: dict[str, list[list[list[tuple[int, int]]]]] = {role: [] for role in REP_ROLES}
    for role in REP_ROLES:
        for region in range(len(REGIONS)):
            region_slots: list[list[tuple[int, int]]] = []
            for _ in range(ROLE_SLOTS[role][region]):
                user = add(role, region, veteran(), managers[region].index)
                region_slots.append([(user.index, -(10**6))])
            slots[role].append(region_slots)
    marketing_lead = add("marketing", 0, veteran(), None)
    for region in (0, 1, 3):
        add("marketing", region, veteran(), marketing_lead.index)

    def hire(role: str, region: int, in_charge: int) -> User:
        return add(role, region, in_charge - 14, managers[region].index)

    # growth hires: a 5th AE in the americas and a 3rd SDR in EMEA
    for role, region, frac in (("ae", 0, 0.45), ("sdr", 1, 0.5)):
        day = start_day + int(frac * n_days)
        user = hire(role, region, day)
        slots[role][region].append([(user.index, day)])
    # one AE moves from the UK to EMEA; the UK hires a successor
    move_day = start_day + int(0.6 * n_days)
    mover_index = slots["ae"][2][1][0][0]
    users[mover_index].region = 1
    users[mover_index].manager = managers[1].index
    users[mover_index].stints.append((2, users[mover_index].hired_day, move_day - 1))
    users[mover_index].stints.append((1, move_day, None))
    slots["ae"][1].append([(mover_index, move_day)])
    successor = hire("ae", 2, move_day)
    slots["ae"][2][1].append((successor.index, move_day))
    # leavers: five rep slots change hands
    candidates = [
        (role, region, slot)
        for role in REP_ROLES
        for region in range(len(REGIONS))
        for slot in range(ROLE_SLOTS[role][region])
        if not (role == "ae" and region == 2 and slot == 1)
    ]
    for pick in rng.choice(len(candidates), size=5, replace=False):
        role, region, slot = candidates[int(pick)]
        day = start_day + int(rng.uniform(0.15, 0.85) * n_days)
        leaver = users[slots[role][region][slot][-1][0]]
        leaver.left_day = day - 1
        slots[role][region][slot].append((hire(role, region, day).index, day))
    for role in REP_ROLES:
        for region_slots in slots[role]:
            for holders in region_slots:
                for position, (user_index, _) in enumerate(holders):
                    user = users[user_index]
                    if not user.stints:
                        ended = users[user_index].left_day if position == len(holders) - 1 else None
                        user.stints.append((user.region, user.hired_day, ended))
    for name in ("Sandbox Admin", "Test Integration User"):
        ghost = add("sdr", 0, end_day - int(rng.integers(30, 200)), None)
        ghost.full_name, ghost.email, ghost.deleted = name, f"{name.lower().replace(' ', '.')}@crmkpi.example", True
    return users, slots


def _owner_lookup(
    users: list[User], slots: dict[str, list[list[list[tuple[int, int]]]]], start_day: int, n_days: int
) -> tuple[dict[str, Arr], dict[str, Arr]]:
    lookup: dict[str, Arr] = {}
    counts: dict[str, Arr] = {}
    days = start_day + np.arange(n_days)
    for role in REP_ROLES:
        width = max(len(region_slots) for region_slots in slots[role])
        table = np.zeros((len(REGIONS), width, n_days), dtype=np.int32)
        counts[role] = np.array([len(region_slots) for region_slots in slots[role]], dtype=np.int64)
        for region, region_slots in enumerate(slots[role]):
            for slot, holders in enumerate(region_slots):
                for user_index, first in holders:
                    table[region, slot, days >= first] = user_index
                opened = holders[0][1]
                table[region, slot, days < opened] = table[region, 0, days < opened]
            for slot in range(len(region_slots), width):
                table[region, slot] = table[region, 0]
        lookup[role] = table
    return lookup, counts


def _lead_day_weights(start_day: int, n_days: int) -> Arr:
    days = start_day + np.arange(n_days)
    season = np.array([0.95, 1.0, 1.05, 1.0, 0.95, 0.85, 0.70, 0.72, 1.0, 1.20, 1.30, 1.0])
    weight = season[_month_of(days) - 1]
    day_of_month = (
        days - days.astype("datetime64[D]").astype("datetime64[M]").astype("datetime64[D]").astype(np.int64)
    ) + 1
    weight = np.where((_month_of(days) == 12) & (day_of_month >= 22), weight * 0.45, weight)
    weekday = (days + 3) % 7  # 0 = Monday
    weight = np.where(weekday >= 5, weight * 0.3, weight)
    growth = 1.0 + 0.35 * np.arange(n_days) / max(n_days - 1, 1)
    return np.asarray(weight * growth, dtype=np.float64)


def _build_world(seed: int, start: date, end: date) -> World:
    rng = _rng(seed, 0)
    start_day, end_day = _epoch_day(start), _epoch_day(end)
    n_days = end_day - start_day + 1
    users, slots = _build_users(rng, start_day, end_day)
    lookup, counts = _owner_lookup(users, slots, start_day, n_days)
    n_campaigns = len(CAMPAIGN_PLANS)
    c_start = np.array([_epoch_day(_campaign_start(start, end, plan)) for plan in CAMPAIGN_PLANS])
    c_end = np.array(
        [
            end_day
            if plan.end_frac is None
            else min(end_day, start_day + max(round(plan.end_frac * n_days), round(plan.start_frac * n_days) + 1))
            for plan in CAMPAIGN_PLANS
        ]
    )
    c_region = np.array([plan.region for plan in CAMPAIGN_PLANS])
    c_weight = np.array([0.0 if plan.deleted else plan.weight for plan in CAMPAIGN_PLANS])
    days = start_day + np.arange(n_days)
    running = (days[:, None] >= c_start[None, :]) & (days[:, None] <= c_end[None, :])  # (day, campaign)
    weights = np.zeros((len(REGIONS), n_days, n_campaigns))
    for region in range(len(REGIONS)):
        in_region = (c_region == -1) | (c_region == region)
        weights[region] = running * (in_region * c_weight)[None, :]
    totals = weights.sum(axis=2, keepdims=True)
    normalised = np.divide(np.cumsum(weights, axis=2), totals, out=np.zeros_like(weights), where=totals > 0)
    offsets = np.arange(len(REGIONS) * n_days, dtype=np.float64).reshape(len(REGIONS), n_days, 1)
    day_weights = _lead_day_weights(start_day, n_days)
    return World(
        seed=seed,
        start_day=start_day,
        end_day=end_day,
        users=users,
        owner_lookup=lookup,
        slot_count=counts,
        campaign_start=c_start,
        campaign_end=c_end,
        campaign_running_at_end=np.array([plan.end_frac is None for plan in CAMPAIGN_PLANS]),
        campaign_channel=np.array([CH[plan.channel] for plan in CAMPAIGN_PLANS]),
        campaign_region=c_region,
        campaign_weight=c_weight,
        campaign_flat=(normalised * 0.999999 + offsets).ravel(),
        campaign_rows=(totals[:, :, 0] > 0),
        day_cdf=np.cumsum(day_weights) / day_weights.sum(),
    )


def _pick_campaigns(world: World, rng: np.random.Generator, region: Arr, seconds: Arr) -> Arr:
    """A campaign running that day in the region (or globally), by weight; -1 when there is none."""
    n_campaigns = len(CAMPAIGN_PLANS)
    day = np.clip(np.asarray(seconds) // DAY - world.start_day, 0, world.n_days - 1)
    row = region * world.n_days + day
    target = row + rng.random(len(row)) * 0.999999
    position = np.searchsorted(world.campaign_flat, target, side="right") - row * n_campaigns
    valid = world.campaign_rows[region, day] & (position < n_campaigns)
    return np.where(valid, np.minimum(position, n_campaigns - 1), -1).astype(np.int64)
