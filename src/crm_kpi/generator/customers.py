"""Subscriptions and the deals of existing customers.

New-business deals of converted leads, the subscriptions their wins start, churn, renewal, upsell,
cross-sell and win-back deals, subscription periods (MRR changes), and _customer_lifecycle, which
chains them for one chunk.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from crm_kpi.contract import CHANNELS
from crm_kpi.generator.constants import CHANNEL_PROFILES, DAY, FAMILIES, HOUR, NOMINAL_RATE, Arr
from crm_kpi.generator.deals import (
    CROSS_SELL,
    FAMILY_MAX_TIER,
    NEW_BUSINESS,
    PRODUCT_AT,
    PRODUCT_FAMILY,
    PRODUCT_TIER,
    RENEWAL,
    UPSELL,
    Accounts,
    DealOutcome,
    Deals,
    _concat_deals,
    _deal_amounts,
    _deal_history,
    _new_business_items,
    _unit_price_cents,
)
from crm_kpi.generator.helpers import _choice, _lognormal, _segment_starts
from crm_kpi.generator.leads import CONVERTED, Leads
from crm_kpi.generator.world import World

NO_END = np.iinfo(np.int64).max // 4
SUB_NEW, SUB_CROSS, SUB_WINBACK = range(3)


@dataclass
class Subs:
    account: Arr
    product: Arr
    seats: Arr
    mrr: Arr  # cents, first period
    start_day: Arr
    churn_day: Arr  # NO_END when it never churns
    origin_deal: Arr
    health: Arr
    kind: Arr


def _concat_subs(parts: Sequence[Subs]) -> Subs:
    return Subs(**{name: np.concatenate([getattr(part, name) for part in parts]) for name in Subs.__dataclass_fields__})


def _churn_days(rng: np.random.Generator, start_day: Arr, health: Arr, end_day: int) -> Arr:
    lifetime = rng.exponential(1100.0 * np.exp(0.6 * health))
    churn = start_day + np.maximum(np.ceil(lifetime), 31).astype(np.int64)
    return np.where(churn <= end_day, churn, NO_END)


def _subs_from_deals(
    rng: np.random.Generator, world: World, deals: Deals, outcome: DealOutcome, main: Arr, kind: int, mask: Arr
) -> Subs:
    index = np.flatnonzero(mask & outcome.closed & deals.won)
    start = outcome.close_day[index]
    seats = np.bincount(
        deals.item_deal,
        weights=deals.item_quantity * (deals.item_product == main[deals.item_deal]),
        minlength=len(deals.kind),
    )[index].astype(np.int64)
    health = rng.standard_normal(len(index))
    return Subs(
        account=deals.account[index],
        product=main[index],
        seats=np.maximum(seats, 1),
        mrr=np.maximum(np.round(outcome.amount[index] / 12.0), 100).astype(np.int64),
        start_day=start,
        churn_day=_churn_days(rng, start, health, world.end_day),
        origin_deal=index,
        health=health,
        kind=np.full(len(index), kind),
    )


def _business_moment(rng: np.random.Generator, day: Arr) -> Arr:
    return np.asarray(day * DAY + rng.integers(7 * HOUR, 17 * HOUR, len(day)), dtype=np.int64)


def _single_item_deals(
    rng: np.random.Generator,
    kind: Arr,
    account: Arr,
    created: Arr,
    close: Arr,
    won: Arr,
    sub: Arr,
    product: Arr,
    quantity: Arr,
    currency: Arr,
    price: Arr | None,
    am: bool,
    slot: Arr,
) -> Deals:
    n = len(kind)
    reached = np.where(won, 3, rng.integers(0, 4, n))
    prices = _unit_price_cents(rng, product, currency) if price is None else price
    return Deals(
        kind=kind,
        account=account,
        created=created,
        close=np.maximum(close, created + DAY),
        won=won,
        reached=reached,
        owner_role_am=np.full(n, am),
        owner_slot=slot,
        source_lead=np.full(n, -1),
        subscription=sub,
        item_deal=np.arange(n),
        item_product=product,
        item_quantity=np.maximum(quantity, 1).astype(np.int64),
        item_price=prices,
        item_discount=np.where(price is None, rng.choice([0, 0, 5, 10], n), 0),
    )


def _renewal_deals(rng: np.random.Generator, world: World, subs: Subs, accounts: Accounts) -> Deals:
    years = world.n_days // 365 + 2
    sub = np.repeat(np.arange(len(subs.kind)), years)
    year = np.tile(np.arange(1, years + 1), len(subs.kind))
    anniversary = subs.start_day[sub] + 365 * year
    horizon = np.minimum(subs.churn_day[sub], world.end_day + 1)
    keep = (anniversary - 60 < horizon) & (subs.kind[sub] != SUB_CROSS)
    sub, anniversary = sub[keep], anniversary[keep]
    created = _business_moment(rng, anniversary - 60)
    won = subs.churn_day[sub] > anniversary
    close = np.where(
        won,
        _business_moment(rng, anniversary - rng.integers(1, 21, len(sub))),
        _business_moment(rng, subs.churn_day[sub]),
    )
    account = subs.account[sub]
    currency = accounts.region[account]
    price = np.round(12 * subs.mrr[sub] * 1.04 / np.maximum(subs.seats[sub], 1)).astype(np.int64)
    return _single_item_deals(
        rng,
        np.full(len(sub), RENEWAL),
        account,
        created,
        close,
        won,
        sub,
        subs.product[sub],
        subs.seats[sub],
        currency,
        price,
        True,
        accounts.am_slot[account],
    )


def _expansion_deals(rng: np.random.Generator, world: World, subs: Subs, accounts: Accounts) -> Deals:
    horizon = np.minimum(subs.churn_day, world.end_day + 1)
    first = subs.start_day + 45
    months = np.maximum(horizon - first, 0) / 30.4
    count = rng.poisson(months * 0.04)
    sub = np.repeat(np.arange(len(subs.kind)), count)
    created_day = first[sub] + np.floor(rng.random(len(sub)) * (horizon[sub] - first[sub])).astype(np.int64)
    created = _business_moment(rng, created_day)
    close = created + np.clip(_lognormal(rng, 30.0 * DAY, 0.5, len(sub)), 3 * DAY, 150 * DAY).astype(np.int64)
    account = subs.account[sub]
    region = accounts.region[account]
    rep = world.owner("am", region, accounts.am_slot[account], created)
    p_win = np.clip(0.5 * np.array([u.win for u in world.users])[rep], 0.05, 0.9)
    won = rng.random(len(sub)) < p_win
    churn_moment = np.where(subs.churn_day[sub] < NO_END, subs.churn_day[sub] * DAY, np.iinfo(np.int64).max // 2)
    too_late = won & (close >= churn_moment)
    close = np.where(too_late, np.maximum(churn_moment - 2 * HOUR, created + DAY), close)
    won &= ~too_late
    family = PRODUCT_FAMILY[subs.product[sub]]
    tier = PRODUCT_TIER[subs.product[sub]]
    upsell = (tier < FAMILY_MAX_TIER[family]) & (rng.random(len(sub)) < 0.6)
    other_family = (family + rng.integers(1, len(FAMILIES), len(sub))) % len(FAMILIES)
    cross_tier = np.clip(1 + (rng.random(len(sub)) < 0.35), 1, FAMILY_MAX_TIER[other_family])
    product = np.where(upsell, PRODUCT_AT[family, np.minimum(tier, 2)], PRODUCT_AT[other_family, cross_tier - 1])
    quantity = np.ceil(subs.seats[sub] * rng.uniform(0.2, 0.9, len(sub)))
    return _single_item_deals(
        rng,
        np.where(upsell, UPSELL, CROSS_SELL),
        account,
        created,
        close,
        won,
        sub,
        product,
        quantity,
        region,
        None,
        True,
        accounts.am_slot[account],
    )


def _winback_deals(rng: np.random.Generator, world: World, subs: Subs, accounts: Accounts) -> Deals:
    churned = (subs.churn_day < NO_END) & (subs.kind != SUB_CROSS) & (rng.random(len(subs.kind)) < 0.25)
    created_day = subs.churn_day + rng.integers(60, 300, len(subs.kind))
    sub = np.flatnonzero(churned & (created_day < world.end_day - 10))
    created = _business_moment(rng, created_day[sub])
    close = created + np.clip(_lognormal(rng, 20.0 * DAY, 0.5, len(sub)), 3 * DAY, 90 * DAY).astype(np.int64)
    account = subs.account[sub]
    quantity = np.ceil(subs.seats[sub] * rng.uniform(0.6, 1.1, len(sub)))
    return _single_item_deals(
        rng,
        np.full(len(sub), NEW_BUSINESS),
        account,
        created,
        close,
        np.ones(len(sub), dtype=bool),
        sub,
        subs.product[sub],
        quantity,
        accounts.region[account],
        None,
        False,
        accounts.ae_slot[account],
    )


@dataclass
class Periods:
    sub: Arr
    start_day: Arr
    end_day: Arr  # NO_END: active
    mrr: Arr
    first: Arr  # the subscription's first period


def _periods(
    rng: np.random.Generator, world: World, subs: Subs, change_sub: Arr, change_day: Arr, change_delta: Arr
) -> Periods:
    """Periods of every subscription from its start, MRR changes (deltas in cents) and churn."""
    n = len(subs.kind)
    horizon = np.minimum(subs.churn_day, world.end_day + 1)
    # natural seat true-ups: expansions and contractions without a deal
    months = np.maximum(horizon - subs.start_day - 30, 0) / 30.4
    count = rng.poisson(months * 0.05)
    sub = np.repeat(np.arange(n), count)
    day = subs.start_day[sub] + 30 + np.floor(rng.random(len(sub)) * (horizon[sub] - subs.start_day[sub] - 30))
    factor = np.where(rng.random(len(sub)) < 0.6, rng.uniform(0.05, 0.4, len(sub)), -rng.uniform(0.05, 0.4, len(sub)))
    sub = np.concatenate([sub, change_sub]).astype(np.int64)
    day = np.concatenate([day, change_day]).astype(np.int64)
    delta = np.concatenate([np.round(subs.mrr[sub[: len(factor)]] * factor), change_delta]).astype(np.int64)
    keep = (day > subs.start_day[sub]) & (day < horizon[sub])
    sub, day, delta = sub[keep], day[keep], delta[keep]
    order = np.lexsort((day, sub))
    sub, day, delta = sub[order], day[order], delta[order]
    key_start = np.flatnonzero(_segment_starts(sub * 10**7 + day))
    sub, day, delta = sub[key_start], day[key_start], np.add.reduceat(delta, key_start) if len(key_start) else delta
    group_start = _segment_starts(sub)
    total = np.cumsum(delta)
    first_index = np.maximum.accumulate(np.where(group_start, np.arange(len(sub)), 0))
    cumulative = total - (total - delta)[first_index]
    mrr = np.maximum(subs.mrr[sub] + cumulative, np.round(subs.mrr[sub] * 0.1)).astype(np.int64)
    previous = np.where(group_start, subs.mrr[sub], np.roll(mrr, 1))
    changed = mrr != previous
    sub, day, mrr = sub[changed], day[changed], mrr[changed]
    all_sub = np.concatenate([np.arange(n), sub])
    all_day = np.concatenate([subs.start_day, day])
    all_mrr = np.concatenate([subs.mrr, mrr])
    first = np.concatenate([np.ones(n, dtype=bool), np.zeros(len(sub), dtype=bool)])
    order = np.lexsort((all_day, all_sub))
    all_sub, all_day, all_mrr, first = all_sub[order], all_day[order], all_mrr[order], first[order]
    last_of_sub = np.ones(len(all_sub), dtype=bool)
    last_of_sub[:-1] = all_sub[1:] != all_sub[:-1]
    next_day = np.roll(all_day, -1)
    end = np.where(last_of_sub, subs.churn_day[all_sub], next_day)
    return Periods(all_sub, all_day, end, all_mrr, first)


def _concat_outcomes(parts: Sequence[DealOutcome], sizes: Sequence[int]) -> DealOutcome:
    offsets = np.cumsum([0, *sizes])[:-1]
    merged = {
        name: np.concatenate([getattr(part, name) for part in parts]) for name in DealOutcome.__dataclass_fields__
    }
    merged["history_deal"] = np.concatenate(
        [part.history_deal + offset for part, offset in zip(parts, offsets, strict=True)]
    )
    return DealOutcome(**merged)


def _lead_deals(
    world: World, rng: np.random.Generator, leads: Leads, accounts: Accounts, account_of: Arr
) -> tuple[Deals, Arr, Arr]:
    """New-business deals of converted leads: (deals, their amounts, their main products)."""
    lead_index = np.flatnonzero(leads.written[:, CONVERTED])
    n = len(lead_index)
    account = account_of
    created = leads.times[lead_index, CONVERTED]
    deals = Deals(
        kind=np.full(n, NEW_BUSINESS),
        account=account,
        created=created,
        close=created,
        won=np.zeros(n, dtype=bool),
        reached=np.zeros(n, dtype=np.int64),
        owner_role_am=np.zeros(n, dtype=bool),
        owner_slot=accounts.ae_slot[account],
        source_lead=lead_index,
        subscription=np.full(n, -1),
    )
    channel = leads.channel[lead_index]
    main = _new_business_items(rng, world, deals, accounts, channel)
    amount = _deal_amounts(deals, n)
    rep = world.owner("ae", accounts.region[account], deals.owner_slot, created)
    channel_win = np.array([CHANNEL_PROFILES[name].win for name in CHANNELS])[channel]
    usd = amount * np.array(NOMINAL_RATE)[accounts.region[account]] / 100.0
    size_effect = (np.maximum(usd, 500) / 8_000) ** -0.15  # big deals are harder to win
    p_win = np.clip(0.30 * channel_win * size_effect * np.array([u.win for u in world.users])[rep], 0.03, 0.85)
    deals.won = rng.random(n) < p_win
    median = np.where(deals.won, 42.0, 30.0) * DAY * (np.maximum(usd, 500) / 10_000) ** 0.2
    deals.close = created + np.clip(_lognormal(rng, median, 0.5, n), 3 * DAY, 400 * DAY).astype(np.int64)
    deals.reached = np.where(deals.won, 3, _choice(rng, (0.35, 0.30, 0.20, 0.15), n))
    return deals, amount, main


@dataclass
class ChunkDeals:
    deals: Deals
    outcome: DealOutcome
    amount: Arr
    subs: Subs
    periods: Periods


def _customer_lifecycle(
    world: World, rng: Callable[[int], np.random.Generator], leads: Leads, accounts: Accounts, account_of: Arr
) -> ChunkDeals:
    """New business from leads, subscriptions, renewals, upsells, cross-sells and win-backs."""
    lead_deals, lead_amount, main = _lead_deals(world, rng(3), leads, accounts, account_of)
    lead_outcome = _deal_history(world, rng(4), lead_deals, lead_amount)
    first_subs = _subs_from_deals(rng(5), world, lead_deals, lead_outcome, main, SUB_NEW, np.ones(len(main), bool))
    customer = _concat_deals(
        [
            _renewal_deals(rng(6), world, first_subs, accounts),
            _expansion_deals(rng(7), world, first_subs, accounts),
            _winback_deals(rng(8), world, first_subs, accounts),
        ]
    )
    customer_amount = _deal_amounts(customer, len(customer.kind))
    customer_outcome = _deal_history(world, rng(9), customer, customer_amount)
    offset = len(lead_deals.kind)
    cross = _subs_from_deals(
        rng(10), world, customer, customer_outcome, customer.item_product, SUB_CROSS, customer.kind == CROSS_SELL
    )
    cross.churn_day = first_subs.churn_day[customer.subscription[cross.origin_deal]]
    keep = cross.start_day < np.minimum(cross.churn_day, world.end_day + 1)
    cross = Subs(**{name: getattr(cross, name)[keep] for name in Subs.__dataclass_fields__})
    winback = _subs_from_deals(
        rng(11), world, customer, customer_outcome, customer.item_product, SUB_WINBACK, customer.kind == NEW_BUSINESS
    )
    cross.origin_deal = cross.origin_deal + offset
    winback.origin_deal = winback.origin_deal + offset
    subs = _concat_subs([first_subs, cross, winback])
    won = customer_outcome.closed & customer.won
    upsell = np.flatnonzero(won & (customer.kind == UPSELL))
    renewal = np.flatnonzero(won & (customer.kind == RENEWAL))
    change_sub = np.concatenate([customer.subscription[upsell], customer.subscription[renewal]])
    change_day = np.concatenate([customer_outcome.close_day[upsell], customer_outcome.close_day[renewal] + 14])
    change_delta = np.concatenate(
        [np.round(customer_outcome.amount[upsell] / 12.0), np.round(subs.mrr[customer.subscription[renewal]] * 0.04)]
    ).astype(np.int64)
    periods = _periods(rng(12), world, subs, change_sub, change_day, change_delta)
    deals = _concat_deals([lead_deals, customer])
    outcome = _concat_outcomes([lead_outcome, customer_outcome], [offset, len(customer.kind)])
    return ChunkDeals(deals, outcome, np.concatenate([lead_amount, customer_amount]), subs, periods)
