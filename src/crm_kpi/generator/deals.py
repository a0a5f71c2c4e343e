"""Accounts and opportunities.

The chunk's prospect accounts and the accounts of converting leads (with their company names); the
product catalogue as arrays; Deals (opportunities with their line items), prices and the line items of
new business; every deal's stage, amount and close-date history (DealOutcome).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from crm_kpi.contract import CHANNELS
from crm_kpi.generator.constants import (
    CHANNEL_PROFILES,
    COUNTRIES,
    DAY,
    FAMILIES,
    HOUR,
    LOST,
    NOMINAL_RATE,
    PRODUCTS,
    REGION_DEAL_SIZE,
    REGION_WEIGHTS,
    REGIONS,
    WON,
    Arr,
)
from crm_kpi.generator.helpers import _choice, _lognormal, _rank_within
from crm_kpi.generator.leads import CONVERTED, Leads
from crm_kpi.generator.rendering import _take
from crm_kpi.generator.world import World


# ---------------------------------------------------------------------------------------------------
# Accounts
# ---------------------------------------------------------------------------------------------------
@dataclass
class Accounts:
    created: Arr
    country: Arr
    region: Arr
    name_stem: Arr  # index into the country's stems
    name_suffix: Arr
    ae_slot: Arr
    am_slot: Arr


def _company_parts(rng: np.random.Generator, country: Arr) -> tuple[Arr, Arr]:
    stems = np.array([len(c.company_stems) for c in COUNTRIES])[country]
    suffixes = np.array([len(c.company_suffixes) for c in COUNTRIES])[country]
    return np.floor(rng.random(len(country)) * stems).astype(np.int64), np.floor(
        rng.random(len(country)) * suffixes
    ).astype(np.int64)


def _company_names(country: Arr, stem: Arr, suffix: Arr, with_suffix: Arr | None = None) -> pa.Array:
    stem_pool = [s for c in COUNTRIES for s in c.company_stems]
    suffix_pool = [s for c in COUNTRIES for s in c.company_suffixes]
    stem_offset = np.cumsum([0] + [len(c.company_stems) for c in COUNTRIES])[:-1]
    suffix_offset = np.cumsum([0] + [len(c.company_suffixes) for c in COUNTRIES])[:-1]
    stems = _take(stem_pool, stem_offset[country] + stem)
    suffixes = _take(suffix_pool, suffix_offset[country] + suffix)
    separator = _take([c.company_sep for c in COUNTRIES], country)
    suffix_first = np.array([c.suffix_first for c in COUNTRIES])[country]
    forward = pc.binary_join_element_wise(stems, separator, suffixes, "")
    backward = pc.binary_join_element_wise(suffixes, separator, stems, "")
    names = pc.if_else(pa.array(suffix_first), backward, forward)
    if with_suffix is not None:
        names = pc.if_else(pa.array(np.asarray(with_suffix, dtype=bool)), names, stems)
    return names


def _make_accounts(world: World, rng: np.random.Generator, leads: Leads, converting: Arr) -> tuple[Accounts, Arr, Arr]:
    """Prospect accounts of the chunk plus one new account per converting lead that does not join an
    existing prospect of its region. Returns the accounts, each converting lead's account and whether
    that account is new."""
    n_prospects = max(2, round(0.05 * len(leads.created)))
    p_country = _choice(rng, [REGION_WEIGHTS[c.region] * c.weight for c in COUNTRIES], n_prospects)
    p_created = world.start_s - 365 * DAY + (rng.random(n_prospects) * (world.end_cut - world.start_s + 300 * DAY))
    p_created = np.minimum(p_created.astype(np.int64), world.end_cut - DAY)
    p_region = np.array([c.region for c in COUNTRIES])[p_country]
    lead_index = np.flatnonzero(converting)
    conv_time = leads.times[lead_index, CONVERTED]
    joins = np.full(len(lead_index), -1, dtype=np.int64)
    wants_existing = rng.random(len(lead_index)) < 0.22
    for region in range(len(REGIONS)):
        pool = np.flatnonzero(p_region == region)
        pool = pool[np.argsort(p_created[pool], kind="stable")]
        mine = np.flatnonzero(wants_existing & (leads.region[lead_index] == region))
        available = np.searchsorted(p_created[pool], conv_time[mine], side="left")
        pick = np.floor(rng.random(len(mine)) * available).astype(np.int64)
        joins[mine] = np.where(available > 0, pool[np.minimum(pick, len(pool) - 1)] if len(pool) else -1, -1)
    is_new = joins < 0
    new_index = n_prospects + np.cumsum(is_new) - 1
    account_of = np.where(is_new, new_index, joins)
    n_new = int(is_new.sum())
    stem, suffix = _company_parts(rng, leads.country[lead_index[is_new]])
    p_stem, p_suffix = _company_parts(rng, p_country)
    country = np.concatenate([p_country, leads.country[lead_index[is_new]]])
    region = np.array([c.region for c in COUNTRIES])[country]
    accounts = Accounts(
        created=np.concatenate([p_created, conv_time[is_new]]),
        country=country,
        region=region,
        name_stem=np.concatenate([p_stem, stem]),
        name_suffix=np.concatenate([p_suffix, suffix]),
        ae_slot=world.slots(rng, "ae", region),
        am_slot=world.slots(rng, "am", region),
    )
    assert len(accounts.created) == n_prospects + n_new
    return accounts, account_of, is_new


# ---------------------------------------------------------------------------------------------------
# Opportunities
# ---------------------------------------------------------------------------------------------------
NEW_BUSINESS, UPSELL, CROSS_SELL, RENEWAL = range(4)
PRODUCT_FAMILY = np.array([p[1] for p in PRODUCTS])
PRODUCT_TIER = np.array([p[2] for p in PRODUCTS])
PRODUCT_PRICE = np.array([p[3] for p in PRODUCTS], dtype=np.float64)
PRODUCT_AT = np.full((len(FAMILIES), 3), -1, dtype=np.int64)
for _index, _product in enumerate(PRODUCTS):
    PRODUCT_AT[_product[1], _product[2] - 1] = _index
FAMILY_MAX_TIER = (PRODUCT_AT >= 0).sum(axis=1)


@dataclass
class Deals:
    """Opportunities of a chunk (before ids), with their line items."""

    kind: Arr
    account: Arr
    created: Arr
    close: Arr  # planned close moment (UTC seconds); at or after the end: still open
    won: Arr
    reached: Arr  # highest open stage reached (0-3) before closing
    owner_role_am: Arr
    owner_slot: Arr
    source_lead: Arr  # -1: none
    subscription: Arr  # the subscription the deal is about (-1: none)
    item_deal: Arr = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    item_product: Arr = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    item_quantity: Arr = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    item_price: Arr = field(default_factory=lambda: np.zeros(0, dtype=np.int64))  # cents
    item_discount: Arr = field(default_factory=lambda: np.zeros(0, dtype=np.int64))  # percent


def _concat_deals(parts: Sequence[Deals]) -> Deals:
    offsets = np.cumsum([0] + [len(part.kind) for part in parts])[:-1]
    merged = {
        name: np.concatenate([getattr(part, name) for part in parts])
        for name in (
            "kind",
            "account",
            "created",
            "close",
            "won",
            "reached",
            "owner_role_am",
            "owner_slot",
            "source_lead",
            "subscription",
            "item_product",
            "item_quantity",
            "item_price",
            "item_discount",
        )
    }
    merged["item_deal"] = np.concatenate([part.item_deal + offset for part, offset in zip(parts, offsets, strict=True)])
    return Deals(**merged)


def _unit_price_cents(rng: np.random.Generator, product: Arr, currency: Arr) -> Arr:
    rate = np.array(NOMINAL_RATE)[currency]
    price = PRODUCT_PRICE[product] / rate * rng.uniform(0.97, 1.03, len(product))
    return np.asarray(np.round(price * 100), dtype=np.int64)


def _deal_amounts(deals: Deals, n: int) -> Arr:
    net = deals.item_quantity * deals.item_price * (100 - deals.item_discount) / 100.0
    return np.asarray(np.round(np.bincount(deals.item_deal, weights=net, minlength=n)), dtype=np.int64)


def _new_business_items(rng: np.random.Generator, world: World, deals: Deals, accounts: Accounts, channel: Arr) -> Arr:
    """Line items of new-business deals; returns each deal's main product."""
    n = len(deals.kind)
    region = accounts.region[deals.account]
    rep = world.owner("ae", region, deals.owner_slot, deals.created)
    size = np.array([u.size for u in world.users])[rep] * np.array(REGION_DEAL_SIZE)[region]
    deal_factor = np.array([CHANNEL_PROFILES[name].deal for name in CHANNELS])[channel]
    seats = np.clip(np.round(_lognormal(rng, 11.0 * size * deal_factor, 0.9, n)), 1, 3000).astype(np.int64)
    family = _choice(rng, (0.45, 0.25, 0.15, 0.15), n)
    tier = 1 + (seats > 15) + (seats > 60) + rng.choice([-1, 0, 0, 0, 0, 1], n)
    tier = np.clip(tier, 1, FAMILY_MAX_TIER[family])
    main = PRODUCT_AT[family, tier - 1]
    n_items = 1 + _choice(rng, (0.55, 0.30, 0.15), n)
    others = np.argsort(
        rng.random((n, len(FAMILIES))) + (np.arange(len(FAMILIES))[None, :] == family[:, None]) * 9, axis=1
    )
    deal_of = np.repeat(np.arange(n), n_items)
    rank = _rank_within(deal_of)
    item_family = np.where(rank == 0, family[deal_of], others[deal_of, np.maximum(rank - 1, 0)])
    addon_tier = np.clip(1 + (rng.random(len(deal_of)) < 0.3), 1, FAMILY_MAX_TIER[item_family])
    product = np.where(rank == 0, main[deal_of], PRODUCT_AT[item_family, addon_tier - 1])
    quantity = np.where(rank == 0, seats[deal_of], np.ceil(seats[deal_of] * rng.uniform(0.3, 1.0, len(deal_of))))
    discount_levels = np.array([0, 5, 10, 15, 20, 25])
    discount = discount_levels[_choice(rng, (0.35, 0.2, 0.2, 0.12, 0.08, 0.05), n)][deal_of]
    currency = region[deal_of]  # a region's currency has the region's index in CURRENCIES
    deals.item_deal = deal_of
    deals.item_product = product
    deals.item_quantity = quantity.astype(np.int64)
    deals.item_price = _unit_price_cents(rng, product, currency)
    deals.item_discount = discount.astype(np.int64)
    return np.asarray(main, dtype=np.int64)


@dataclass
class DealOutcome:
    stage: Arr
    amount: Arr  # cents
    close_day: Arr
    updated: Arr
    closed: Arr
    history_deal: Arr
    history_stage: Arr
    history_amount: Arr
    history_close_day: Arr
    history_time: Arr


def _deal_history(world: World, rng: np.random.Generator, deals: Deals, amount: Arr) -> DealOutcome:
    """Stage, amount and close-date changes of every deal (one history row per change)."""
    n = len(deals.kind)
    never = np.iinfo(np.int64).max
    span = np.maximum(deals.close - deals.created, DAY)
    visible_span = np.maximum(np.minimum(deals.close, world.end_cut - 1) - deals.created, 60)
    times = np.full((n, 7), never, dtype=np.int64)
    times[:, 0] = deals.created
    advance = np.sort(rng.uniform(0.05, 0.9, (n, 3)), axis=1)
    for step in (1, 2, 3):
        moment = deals.created + (advance[:, step - 1] * span).astype(np.int64)
        times[:, step] = np.where(deals.reached >= step, moment, never)
    times[:, 4] = deals.close
    amount_change = rng.random(n) < np.where(deals.kind == RENEWAL, 0.15, 0.45)
    slip = rng.random(n) < 0.35
    amount_moment = deals.created + (rng.uniform(0.05, 0.95, n) * visible_span).astype(np.int64)
    slip_moment = deals.created + (rng.uniform(0.05, 0.95, n) * visible_span).astype(np.int64)
    times[:, 5] = np.where(amount_change, amount_moment, never)
    times[:, 6] = np.where(slip, slip_moment, never)
    code = np.tile(np.array([0, 1, 2, 3, -2, -1, -1]), (n, 1))
    code[:, 4] = np.where(deals.won, WON, LOST)
    kind = np.tile(np.arange(7), (n, 1))
    order = np.argsort(times, axis=1, kind="stable")
    times = np.take_along_axis(times, order, axis=1)
    code = np.take_along_axis(code, order, axis=1)
    kind = np.take_along_axis(kind, order, axis=1)
    for column in range(1, 7):
        bumped = np.maximum(times[:, column], times[:, column - 1] + 1)
        times[:, column] = np.where(times[:, column] == never, never, bumped)
    valid = times < world.end_cut
    code = np.where(valid, code, -1)
    stage = np.maximum.accumulate(code, axis=1)
    amount_version = np.maximum.accumulate(np.where(valid & (kind == 5), 1, 0), axis=1)
    close_version = np.maximum.accumulate(np.where(valid & (kind == 6), 1, np.where(valid & (kind == 4), 2, 0)), axis=1)
    initial_amount = np.where(
        amount_change, np.round(amount * rng.uniform(0.6, 1.4, n) / 10_000) * 10_000, amount
    ).astype(np.int64)
    initial_amount = np.maximum(initial_amount, 10_000)
    initial_close = (deals.created + (span * rng.uniform(0.5, 1.0, n)).astype(np.int64)) // DAY
    month_end = (initial_close.astype("datetime64[D]").astype("datetime64[M]") + 1).astype("datetime64[D]").astype(
        np.int64
    ) - 1
    slipped_close = month_end + rng.integers(1, 31, n)
    actual_close = deals.close // DAY
    amounts = np.where(amount_version == 1, amount[:, None], initial_amount[:, None])
    close_days = np.choose(close_version, [initial_close[:, None], slipped_close[:, None], actual_close[:, None]])
    count = valid.sum(axis=1)
    last = count - 1
    rows = np.arange(n)
    flat = valid.ravel()
    return DealOutcome(
        stage=stage[rows, last],
        amount=amounts[rows, last],
        close_day=close_days[rows, last],
        updated=np.minimum(times[rows, last] + rng.integers(0, HOUR, n), world.end_cut - 1),
        closed=valid[rows, last] & (kind[rows, last] == 4),
        history_deal=np.repeat(rows, count),
        history_stage=stage.ravel()[flat],
        history_amount=amounts.ravel()[flat],
        history_close_day=close_days.ravel()[flat],
        history_time=times.ravel()[flat],
    )
