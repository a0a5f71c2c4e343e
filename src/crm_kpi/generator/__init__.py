"""Deterministic, vectorised generator of a believable raw CRM export (every table of the raw contract).

The model of behaviour
----------------------
World (small tables, plain Python, seeded from ``seed`` only):
- 4 regions (americas/USD, emea/EUR, uk/GBP, apac/INR), each a team with a manager, SDRs, a BDR, AEs
  and AMs; a head of sales and marketers. Reps sit in *slots*: a slot is held by one rep at a time, so
  when a rep leaves (``left_on``) the successor (hired two weeks before) inherits the slot's leads and
  deals. There are growth hires, one team move and two soft-deleted users that never did anything.
  Every rep has a skill: win-rate, deal-size and response-speed multipliers.
- ~30 campaigns over the 11 channels (always-on, bursty events and webinars, global or regional) with
  very different cost per lead and conversion (paid_search expensive / mid conversion, referral cheap /
  high conversion, display cheap / low conversion, organic without spend); two soft-deleted campaigns
  without leads or spend. Daily spend rows while a campaign runs = its leads x its cost per lead,
  spread over its days (written after the leads, so the cost per lead is believable at every scale).
- exchange rates for EUR, GBP, INR: a slow random walk, one row a day from 30 days before start.

Leads and everything that hangs off them are generated in chunks of CHUNK_LEADS leads; each chunk has
its own random streams derived from (seed, chunk, component), so results never depend on memory. A
chunk is a self-contained slice of the world (its own prospect accounts, customers, subscriptions):
- lead volume follows seasonality (Q4 peak, summer and Christmas dips, quiet weekends) and growth;
  creation time is local business hours (some off-hours) rendered with the country's UTC offset; a few
  leads are created late on a month's last day (negative offset) or early on the 1st (positive offset)
  so that their UTC month differs from the local one.
- a lead's source campaign is picked among the campaigns running that day in its region (or global);
  its first touch is that campaign (usually before creation), later touches come from other campaigns.
- lifecycle new -> working (first outbound activity) -> mql -> sql -> converted with channel-specific
  rates, dropouts (disqualified, recycled, or simply stalled) and some histories that skip the mql or
  working row. Events after ``end`` are cut, so the latest leads are still open.
- a converted lead creates an account (or joins an existing prospect account of its region) and a
  new_business opportunity owned by an AE. Deals move through the stages (amount changes, close dates
  that slip past month ends), are won / lost (to competitors, with reasons) / still open at the end.
- won new_business starts a monthly subscription (MRR = amount / 12) that expands or contracts (a new
  period row of the same subscription_id), churns (period_end set), and sometimes comes back later via
  a win-back deal as a new subscription. Customers get renewal deals at each anniversary (lost when they
  churn), upsell (higher tier of their family) and cross-sell deals (another family -> new
  subscription). Monthly invoices per active period, a few refunds, customer NPS/CSAT surveys whose
  scores are lower for customers who churn.
- activities: SDR work on leads (first outbound, follow-ups, positive replies, meetings booked),
  AE work on deals, AM check-ins on customers.

Raw-export realism: mixed ISO 8601 forms, ~3% of entity rows re-exported with an older updated_at and
stale values, ~1% soft deletes, enums in other case or padded, names in many scripts and company names
that need CSV quoting. INJECTED_DEFECTS lists the only invalid rows. Children of soft-deleted leads and
opportunities (status history, touches, activities, stage history, line items) are kept, pointing to
the deleted parent; the invalid lead keeps its single `new` status-history row.

Modules, in the order of the steps: ``constants`` (reference data), ``helpers`` (random streams, epoch
days, months), ``rendering`` (values as text), ``writers`` (CSV / Parquet), ``world`` (users, slots,
campaign calendars), ``leads``, ``deals`` (accounts and opportunities), ``customers`` (subscriptions and
the deals of existing customers), ``activities`` (activities, touches, invoices, surveys),
``chunk_tables`` (the rows of a chunk's tables), ``chunk`` (one chunk end to end), ``small_tables``
(reference tables, people, campaigns and spend, quotas); ``generate`` below runs them.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

import numpy as np

from crm_kpi.contract import TABLES
from crm_kpi.generator.chunk import Totals, _generate_chunk
from crm_kpi.generator.chunk_tables import Counters
from crm_kpi.generator.constants import (
    CAMPAIGN_PLANS,
    CHUNK_LEADS,
    DEFAULT_END,
    DEFAULT_START,
    INJECTED_DEFECTS,
    REGIONS,
)
from crm_kpi.generator.small_tables import _write_campaigns, _write_people, _write_quotas, _write_reference
from crm_kpi.generator.world import _build_world
from crm_kpi.generator.writers import TableWriter

__all__ = ["CHUNK_LEADS", "DEFAULT_END", "DEFAULT_START", "INJECTED_DEFECTS", "generate"]


def generate(
    out_dir: Path,
    *,
    leads: int = 3000,
    start: date = DEFAULT_START,
    end: date = DEFAULT_END,
    fmt: str = "csv",
    seed: int = 42,
    progress: Callable[[str], None] | None = None,
) -> dict[str, int]:
    """Write `<out_dir>/<table>.<fmt>` for every table of the raw contract; returns rows written per table."""
    if fmt not in ("csv", "parquet"):
        raise ValueError(f"format must be csv or parquet, not {fmt!r}")
    if leads < 1:
        raise ValueError("leads must be at least 1")
    if end <= start + timedelta(days=60):
        raise ValueError("the range must span more than 60 days")
    if seed < 0:
        raise ValueError("seed must not be negative")

    def say(message: str) -> None:
        if progress is not None:
            progress(message)

    out_dir.mkdir(parents=True, exist_ok=True)
    world = _build_world(seed, start, end)
    writers = {table.name: TableWriter(out_dir, table.name, fmt) for table in TABLES}
    try:
        _write_reference(world, writers)
        _write_people(world, writers)
        say(f"reference tables and {len(world.users)} users written")
        counters = Counters()
        totals = Totals(np.zeros(len(CAMPAIGN_PLANS)), np.zeros((len(REGIONS), 2)))
        n_chunks = -(-leads // CHUNK_LEADS)
        for chunk in range(n_chunks):
            size = min(CHUNK_LEADS, leads - chunk * CHUNK_LEADS)
            _generate_chunk(world, chunk, size, counters, totals, writers)
            say(f"chunk {chunk + 1}/{n_chunks}: {size} leads, {counters.activity} activities so far")
        _write_campaigns(world, totals, writers)
        _write_quotas(world, totals, writers)
    finally:
        rows = {table.name: writers[table.name].close() for table in TABLES}
    say(f"{sum(rows.values())} rows written to {out_dir}")
    return rows
