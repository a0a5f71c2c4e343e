"""One chunk of leads and everything that hangs off it.

Each model step draws from its own random stream derived from (seed, chunk, component), so results
never depend on memory; then the soft deletes are picked, the chunk's rows written and the totals
(campaign leads, bookings) added up that campaign spend and quotas are scaled to.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from crm_kpi.generator.activities import _account_activities, _deal_activities, _lead_activities
from crm_kpi.generator.chunk_tables import (
    Counters,
    _numbers,
    _write_accounts,
    _write_activities,
    _write_deals,
    _write_leads,
    _write_subscriptions,
    _write_touches,
)
from crm_kpi.generator.constants import CAMPAIGN_PLANS, NOMINAL_RATE, Arr
from crm_kpi.generator.customers import _customer_lifecycle
from crm_kpi.generator.deals import CROSS_SELL, NEW_BUSINESS, UPSELL, _make_accounts
from crm_kpi.generator.helpers import _rng
from crm_kpi.generator.leads import CONVERTED, _make_leads
from crm_kpi.generator.world import World
from crm_kpi.generator.writers import TableWriter


@dataclass
class Totals:
    campaign_leads: Arr
    bookings_usd: Arr  # (region, 0 = AE new business / 1 = AM customer deals)


def _generate_chunk(
    world: World, chunk: int, n: int, counters: Counters, totals: Totals, writers: dict[str, TableWriter]
) -> None:
    def rng(component: int) -> np.random.Generator:
        return _rng(world.seed, 1, chunk, component)

    leads = _make_leads(world, rng(1), chunk, n)
    converting = leads.written[:, CONVERTED]
    accounts, lead_account, _ = _make_accounts(world, rng(2), leads, converting)
    cd = _customer_lifecycle(world, rng, leads, accounts, lead_account)
    deals, outcome = cd.deals, cd.outcome
    account_numbers = _numbers(accounts.created, counters.account)
    counters.account += len(account_numbers)
    deal_numbers = _numbers(deals.created, counters.deal)
    counters.deal += len(deal_numbers)
    # soft deletes: ~1% of leads that did not convert, ~1% of deals among lost/open customer deals
    lead_deleted = (rng(20).random(n) < 0.01) & ~converting & ~leads.defect
    candidates = np.flatnonzero(np.isin(deals.kind, [UPSELL, CROSS_SELL]) & ~(outcome.closed & deals.won))
    wanted = min(len(candidates), round(0.01 * len(deals.kind)))
    deal_deleted = np.zeros(len(deals.kind), dtype=bool)
    deal_deleted[rng(21).choice(candidates, size=wanted, replace=False) if wanted else []] = True
    customer = np.zeros(len(accounts.created), dtype=bool)
    customer[deals.account[outcome.closed & deals.won]] = True
    lead_deal_numbers = deal_numbers[: int(converting.sum())]
    _write_leads(
        world, rng(30), leads, accounts, account_numbers, lead_deal_numbers, lead_account, lead_deleted, writers
    )
    _write_touches(world, rng(31), leads, writers, counters)
    _write_accounts(world, rng(32), accounts, account_numbers, customer, writers)
    _write_deals(
        world, rng(33), cd, accounts, account_numbers, leads.number, deal_numbers, deal_deleted, writers, counters
    )
    _write_subscriptions(world, rng(34), cd, accounts, account_numbers, deal_numbers, writers, counters)
    activities = [
        _lead_activities(world, rng(40), leads),
        _deal_activities(world, rng(41), cd, accounts),
        _account_activities(world, rng(42), cd.subs, accounts),
    ]
    _write_activities(
        world, rng(43), activities, leads, accounts, cd, account_numbers, deal_numbers, writers, counters, chunk
    )
    totals.campaign_leads += np.bincount(leads.campaign[leads.campaign >= 0], minlength=len(CAMPAIGN_PLANS))
    won = outcome.closed & deals.won
    region = accounts.region[deals.account]
    usd = outcome.amount * np.array(NOMINAL_RATE)[region] / 100.0
    group = (deals.kind != NEW_BUSINESS).astype(np.int64)
    np.add.at(totals.bookings_usd, (region[won], group[won]), usd[won])
