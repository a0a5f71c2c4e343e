"""The rows of one chunk's tables.

Leads (and their status history), campaign touches, accounts, opportunities (stage history, line
items), subscriptions, invoices, refunds, survey responses and activities, with the re-exported stale
rows, soft deletes and injected defects; Counters carries the global numbering from chunk to chunk.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from crm_kpi.contract import (
    ACTIVITY_TYPES,
    CHANNELS,
    INVOICE_STATUSES,
    LEAD_STATUSES,
    OPPORTUNITY_TYPES,
    OUTCOMES,
    SURVEY_TYPES,
    TOUCH_TYPES,
)
from crm_kpi.generator.activities import Activities, _invoices, _surveys, _touches
from crm_kpi.generator.constants import (
    CAMPAIGN_PLANS,
    COMPETITOR_WEIGHTS,
    COMPETITORS,
    COUNTRIES,
    CURRENCIES,
    DAY,
    HOUR,
    INDUSTRIES,
    LOST,
    LOST_REASON_WEIGHTS,
    LOST_REASONS,
    PRODUCTS,
    REFUND_REASONS,
    REGIONS,
    STAGE_NAMES,
    Arr,
    Columns,
)
from crm_kpi.generator.customers import NO_END, ChunkDeals
from crm_kpi.generator.deals import Accounts, _company_names, _company_parts
from crm_kpi.generator.helpers import _choice, _lognormal
from crm_kpi.generator.leads import CONVERTED, Leads, _lead_last_change, _lead_status
from crm_kpi.generator.rendering import (
    _dates,
    _decimal,
    _enum,
    _ids,
    _is_deleted,
    _money,
    _nullify,
    _take,
    _text,
    _timestamps,
)
from crm_kpi.generator.world import World
from crm_kpi.generator.writers import TableWriter


@dataclass
class Counters:
    account: int = 0
    deal: int = 0
    item: int = 0
    sub: int = 0
    invoice: int = 0
    refund: int = 0
    activity: int = 0
    touch: int = 0
    response: int = 0


def _numbers(times: Arr, start: int) -> Arr:
    """Global 1-based numbers in chronological order (ties keep their generation order)."""
    rank = np.empty(len(times), dtype=np.int64)
    rank[np.argsort(times, kind="stable")] = np.arange(len(times))
    return start + rank + 1


def _lookup(values: Arr, index: Arr) -> Arr:
    """values[index] where index -1 means none (0 is returned; the caller renders it as empty)."""
    if len(values) == 0:
        return np.zeros(len(index), dtype=np.int64)
    return np.asarray(values[np.maximum(index, 0)], dtype=np.int64)


def _stale_pick(rng: np.random.Generator, eligible: Arr, rate: float = 0.03) -> Arr:
    return np.flatnonzero(eligible & (rng.random(len(eligible)) < rate))


def _write_leads(
    world: World,
    rng: np.random.Generator,
    leads: Leads,
    accounts: Accounts,
    account_numbers: Arr,
    lead_deal_numbers: Arr,
    lead_account: Arr,
    deleted: Arr,
    writers: dict[str, TableWriter],
) -> None:
    n = len(leads.created)
    status = _lead_status(leads)
    last_change = _lead_last_change(leads)
    updated = np.minimum(last_change + rng.integers(0, 3 * HOUR, n), world.end_cut - 1)
    owner = np.where(
        leads.owner_role_bdr,
        world.owner("bdr", leads.region, leads.owner_slot, last_change),
        world.owner("sdr", leads.region, leads.owner_slot, last_change),
    )
    converted = leads.written[:, CONVERTED]
    conv_rows = np.flatnonzero(converted)
    account_number = np.zeros(n, dtype=np.int64)
    account_number[conv_rows] = account_numbers[lead_account]
    deal_number = np.zeros(n, dtype=np.int64)
    deal_number[conv_rows] = lead_deal_numbers
    stem, suffix = _company_parts(rng, leads.country)
    name_country = leads.country.copy()
    stem[conv_rows] = accounts.name_stem[lead_account]
    suffix[conv_rows] = accounts.name_suffix[lead_account]
    name_country[conv_rows] = accounts.country[lead_account]
    company = _company_names(name_country, stem, suffix)
    first_index, last_index, firsts, lasts, firsts_latin, lasts_latin = _name_indexes(rng, leads.country)
    email = pc.utf8_lower(
        pc.binary_join_element_wise(
            _take(firsts_latin, first_index),
            ".",
            _take(lasts_latin, last_index),
            _take(("", "", "1", "7", "84", "2024"), rng.integers(0, 6, n)),
            "@",
            _take([d for c in COUNTRIES for d in c.mail_domains], leads.country * 3 + rng.integers(0, 3, n)),
            "",
        )
    )
    phone = pc.binary_join_element_wise(
        _take([c.phone_prefix for c in COUNTRIES], leads.country), " ", _text(rng.integers(1_000_000, 9_999_999, n)), ""
    )
    channel = _enum(rng, leads.channel, CHANNELS)
    if leads.defect.any():
        channel = pc.if_else(pa.array(leads.defect), pa.scalar("tv"), channel)
    no_conv = ~converted
    columns: Columns = {
        "lead_id": _ids("lead", leads.number),
        "created_at": _timestamps(rng, leads.created, leads.country, force_local=leads.boundary),
        "source_campaign_id": _take(
            [f"cmp_{i + 1:03d}" for i in range(len(CAMPAIGN_PLANS))], np.maximum(leads.campaign, 0), leads.campaign < 0
        ),
        "channel": channel,
        "owner_user_id": world.user_ids(owner, ~leads.has_owner),
        "region": _take(REGIONS, leads.region),
        "country": _take([c.code for c in COUNTRIES], leads.country),
        "company": _nullify(company, rng.random(n) < 0.12),
        "first_name": _take(firsts, first_index, rng.random(n) < 0.04),
        "last_name": _take(lasts, last_index, rng.random(n) < 0.04),
        "email": _nullify(email, rng.random(n) < 0.08),
        "phone": _nullify(phone, rng.random(n) < 0.3),
        "status": _enum(rng, status, LEAD_STATUSES),
        "converted_account_id": _ids("acc", account_number, no_conv),
        "converted_opportunity_id": _ids("opp", deal_number, no_conv),
        "converted_at": _timestamps(rng, np.maximum(leads.times[:, CONVERTED], 0), leads.country, no_conv),
        "updated_at": _timestamps(rng, updated, leads.country),
        "is_deleted": _is_deleted(rng, deleted),
    }
    writers["leads"].write(columns)
    # re-exported leads: the state before the last status change, with an older updated_at
    history_rows = leads.written.sum(axis=1)
    stale = _stale_pick(rng, (history_rows >= 2) & ~leads.defect)
    if len(stale):
        times = np.where(leads.written[stale], leads.times[stale], -1)
        ordered = np.sort(times, axis=1)
        previous_time = ordered[:, -2]
        previous_status = np.argmax(
            np.where(leads.written[stale], leads.times[stale], -1) == previous_time[:, None], axis=1
        )
        previous_status = np.where(previous_status == 5, leads.exit_status[stale], previous_status)
        stale_columns = {name: array.take(pa.array(stale)) for name, array in columns.items()}
        stale_columns["status"] = _enum(rng, previous_status, LEAD_STATUSES)
        stale_columns["updated_at"] = _timestamps(rng, (ordered[:, -2] + ordered[:, -1]) // 2, leads.country[stale])
        nulls = pa.nulls(len(stale), pa.string())
        for name in ("converted_account_id", "converted_opportunity_id", "converted_at"):
            stale_columns[name] = nulls
        stale_columns["is_deleted"] = _is_deleted(rng, np.zeros(len(stale), dtype=bool))
        writers["leads"].write(stale_columns)
    # status history
    row, column = np.nonzero(leads.written)
    code = np.where(column == 5, leads.exit_status[row], column)
    writers["lead_status_history"].write(
        {
            "lead_id": _ids("lead", leads.number[row]),
            "status": _enum(rng, code, LEAD_STATUSES),
            "changed_at": _timestamps(rng, leads.times[row, column], leads.country[row]),
        }
    )


def _name_indexes(
    rng: np.random.Generator, country: Arr
) -> tuple[Arr, Arr, list[str], list[str], list[str], list[str]]:
    firsts = [name for c in COUNTRIES for name in c.firsts]
    lasts = [name for c in COUNTRIES for name in c.lasts]
    firsts_latin = [name for c in COUNTRIES for name in c.firsts_latin]
    lasts_latin = [name for c in COUNTRIES for name in c.lasts_latin]
    first_offset = np.cumsum([0] + [len(c.firsts) for c in COUNTRIES])
    last_offset = np.cumsum([0] + [len(c.lasts) for c in COUNTRIES])
    first = first_offset[country] + np.floor(rng.random(len(country)) * np.diff(first_offset)[country]).astype(np.int64)
    last = last_offset[country] + np.floor(rng.random(len(country)) * np.diff(last_offset)[country]).astype(np.int64)
    return first, last, firsts, lasts, firsts_latin, lasts_latin


def _write_accounts(
    world: World,
    rng: np.random.Generator,
    accounts: Accounts,
    numbers: Arr,
    customer: Arr,
    writers: dict[str, TableWriter],
) -> None:
    n = len(accounts.created)
    updated = np.minimum(
        accounts.created + np.clip(_lognormal(rng, 40.0 * DAY, 1.0, n), HOUR, 700 * DAY).astype(np.int64),
        world.end_cut - 1,
    )
    updated = np.maximum(updated, accounts.created)
    moment = np.minimum(updated, world.end_cut - 1)
    owner = np.where(
        customer,
        world.owner("am", accounts.region, accounts.am_slot, moment),
        world.owner("ae", accounts.region, accounts.ae_slot, moment),
    )
    employees = np.clip(np.round(_lognormal(rng, 180.0, 1.3, n)), 2, 250_000).astype(np.int64)
    columns: Columns = {
        "account_id": _ids("acc", numbers),
        "account_name": _company_names(accounts.country, accounts.name_stem, accounts.name_suffix),
        "industry": _take(INDUSTRIES, rng.integers(0, len(INDUSTRIES), n), rng.random(n) < 0.1),
        "employees": _text(employees, rng.random(n) < 0.1),
        "region": _take(REGIONS, accounts.region),
        "country": _take([c.code for c in COUNTRIES], accounts.country),
        "owner_user_id": world.user_ids(owner, rng.random(n) < 0.03),
        "created_at": _timestamps(rng, accounts.created, accounts.country),
        "updated_at": _timestamps(rng, updated, accounts.country),
        "is_deleted": _is_deleted(rng, np.zeros(n, dtype=bool)),
    }
    writers["accounts"].write(columns)
    stale = _stale_pick(rng, updated - accounts.created >= 2)
    if len(stale):
        stale_columns = {name: array.take(pa.array(stale)) for name, array in columns.items()}
        stale_columns["account_name"] = _company_names(
            accounts.country[stale], accounts.name_stem[stale], accounts.name_suffix[stale], np.zeros(len(stale), bool)
        )
        stale_columns["employees"] = _text(np.round(employees[stale] * 0.8).astype(np.int64))
        stale_columns["owner_user_id"] = pa.nulls(len(stale), pa.string())
        stale_columns["updated_at"] = _timestamps(
            rng, accounts.created[stale] + (updated[stale] - accounts.created[stale]) // 2, accounts.country[stale]
        )
        writers["accounts"].write(stale_columns)


def _write_deals(
    world: World,
    rng: np.random.Generator,
    cd: ChunkDeals,
    accounts: Accounts,
    account_numbers: Arr,
    lead_numbers: Arr,
    numbers: Arr,
    deleted: Arr,
    writers: dict[str, TableWriter],
    counters: Counters,
) -> None:
    deals, outcome = cd.deals, cd.outcome
    n = len(deals.kind)
    account = deals.account
    region = accounts.region[account]
    country = accounts.country[account]
    owner_moment = np.minimum(deals.close, outcome.updated)
    owner = np.where(
        deals.owner_role_am,
        world.owner("am", region, deals.owner_slot, owner_moment),
        world.owner("ae", region, deals.owner_slot, owner_moment),
    )
    lost = outcome.stage == LOST
    reason = _choice(rng, LOST_REASON_WEIGHTS, n)
    competitor_present = np.where(lost, reason == 1, False) | (rng.random(n) < np.where(lost, 0.25, 0.22))
    competitor = _choice(rng, COMPETITOR_WEIGHTS, n)
    columns: Columns = {
        "opportunity_id": _ids("opp", numbers),
        "account_id": _ids("acc", account_numbers[account]),
        "owner_user_id": world.user_ids(owner),
        "source_lead_id": _ids("lead", lead_numbers[np.maximum(deals.source_lead, 0)], deals.source_lead < 0),
        "opportunity_type": _enum(rng, deals.kind, OPPORTUNITY_TYPES, 0.01),
        "created_at": _timestamps(rng, deals.created, country),
        "close_date": _dates(outcome.close_day),
        "stage": _enum(rng, outcome.stage, STAGE_NAMES),
        "amount": _money(outcome.amount),
        "currency": _take(CURRENCIES, region),
        "lost_reason": _take(LOST_REASONS, reason, ~lost),
        "competitor_id": _take([f"cpt_{i + 1:02d}" for i in range(len(COMPETITORS))], competitor, ~competitor_present),
        "updated_at": _timestamps(rng, outcome.updated, country),
        "is_deleted": _is_deleted(rng, deleted),
    }
    writers["opportunities"].write(columns)
    count = np.bincount(outcome.history_deal, minlength=n)
    first_row = np.cumsum(count) - count
    stale = _stale_pick(rng, count >= 2)
    if len(stale):
        previous = first_row[stale] + count[stale] - 2
        stale_columns = {name: array.take(pa.array(stale)) for name, array in columns.items()}
        stale_stage = outcome.history_stage[previous]
        stale_columns["stage"] = _enum(rng, stale_stage, STAGE_NAMES)
        stale_columns["amount"] = _money(outcome.history_amount[previous])
        stale_columns["close_date"] = _dates(outcome.history_close_day[previous])
        stale_columns["lost_reason"] = _take(LOST_REASONS, reason[stale], stale_stage != LOST)
        middle = (outcome.history_time[previous] + outcome.history_time[previous + 1]) // 2
        stale_columns["updated_at"] = _timestamps(rng, middle, country[stale])
        stale_columns["is_deleted"] = _is_deleted(rng, np.zeros(len(stale), dtype=bool))
        writers["opportunities"].write(stale_columns)
    hist = outcome.history_deal
    writers["opportunity_stage_history"].write(
        {
            "opportunity_id": _ids("opp", numbers[hist]),
            "stage": _enum(rng, outcome.history_stage, STAGE_NAMES),
            "amount": _money(outcome.history_amount),
            "close_date": _dates(outcome.history_close_day),
            "changed_at": _timestamps(rng, outcome.history_time, country[hist]),
        }
    )
    order = np.lexsort((np.arange(len(deals.item_deal)), numbers[deals.item_deal]))
    item_numbers = np.empty(len(order), dtype=np.int64)
    item_numbers[order] = counters.item + np.arange(1, len(order) + 1)
    counters.item += len(order)
    writers["opportunity_line_items"].write(
        {
            "line_item_id": _ids("li", item_numbers),
            "opportunity_id": _ids("opp", numbers[deals.item_deal]),
            "product_id": _take([f"prd_{i + 1:02d}" for i in range(len(PRODUCTS))], deals.item_product),
            "quantity": _text(deals.item_quantity),
            "unit_price": _money(deals.item_price),
            "discount": _decimal(deals.item_discount, 2),
        }
    )


def _write_subscriptions(
    world: World,
    rng: np.random.Generator,
    cd: ChunkDeals,
    accounts: Accounts,
    account_numbers: Arr,
    deal_numbers: Arr,
    writers: dict[str, TableWriter],
    counters: Counters,
) -> None:
    subs, periods = cd.subs, cd.periods
    sub_numbers = _numbers(subs.start_day * 10**6 + subs.account, counters.sub)
    counters.sub += len(subs.kind)
    region = accounts.region[subs.account]
    p = periods.sub
    writers["subscriptions"].write(
        {
            "subscription_id": _ids("sub", sub_numbers[p]),
            "account_id": _ids("acc", account_numbers[subs.account[p]]),
            "product_id": _take([f"prd_{i + 1:02d}" for i in range(len(PRODUCTS))], subs.product[p]),
            "period_start": _dates(periods.start_day),
            "period_end": _dates(np.minimum(periods.end_day, 10**6), periods.end_day >= NO_END),
            "mrr": _money(periods.mrr),
            "currency": _take(CURRENCIES, region[p]),
        }
    )
    invoices = _invoices(world, rng, periods)
    numbers = _numbers(invoices.issued * 10**7 + np.arange(len(invoices.issued)) % 10**7, counters.invoice)
    counters.invoice += len(numbers)
    origin = subs.origin_deal[invoices.sub]
    writers["invoices"].write(
        {
            "invoice_id": _ids("inv", numbers),
            "account_id": _ids("acc", account_numbers[subs.account[invoices.sub]]),
            "opportunity_id": _ids("opp", deal_numbers[origin], ~invoices.first),
            "subscription_id": _ids("sub", sub_numbers[invoices.sub]),
            "issued_on": _dates(invoices.issued),
            "amount": _money(invoices.amount),
            "currency": _take(CURRENCIES, region[invoices.sub]),
            "status": _enum(rng, invoices.status, INVOICE_STATUSES, 0.01),
        }
    )
    refunded = np.flatnonzero((invoices.status == 0) & (rng.random(len(numbers)) < 0.015))
    refund_day = invoices.issued[refunded] + rng.integers(3, 60, len(refunded))
    refunded, refund_day = refunded[refund_day <= world.end_day], refund_day[refund_day <= world.end_day]
    full = rng.random(len(refunded)) < 0.55
    amount = np.where(
        full, invoices.amount[refunded], np.round(invoices.amount[refunded] * rng.uniform(0.1, 0.5, len(refunded)))
    )
    refund_numbers = _numbers(refund_day, counters.refund)
    counters.refund += len(refunded)
    writers["refunds"].write(
        {
            "refund_id": _ids("ref", refund_numbers),
            "invoice_id": _ids("inv", numbers[refunded]),
            "refunded_on": _dates(refund_day),
            "amount": _money(amount.astype(np.int64)),
            "currency": _take(CURRENCIES, region[invoices.sub[refunded]]),
            "reason": _take(
                REFUND_REASONS, rng.integers(0, len(REFUND_REASONS), len(refunded)), rng.random(len(refunded)) < 0.2
            ),
        }
    )
    surveys = _surveys(world, rng, subs)
    response_numbers = counters.response + np.arange(1, len(surveys.sub) + 1)
    counters.response += len(surveys.sub)
    score = surveys.score.copy()
    kind = surveys.kind.copy()
    if counters.response == len(surveys.sub) and len(score):  # first chunk: the injected defect
        kind[0], score[0] = 0, 11
    account = subs.account[surveys.sub]
    writers["survey_responses"].write(
        {
            "response_id": _ids("rsp", response_numbers),
            "survey_type": _enum(rng, kind, SURVEY_TYPES, 0.01),
            "account_id": _ids("acc", account_numbers[account]),
            "product_id": _take(
                [f"prd_{i + 1:02d}" for i in range(len(PRODUCTS))], subs.product[surveys.sub], ~surveys.with_product
            ),
            "responded_at": _timestamps(rng, surveys.time, accounts.country[account]),
            "score": _text(score),
        }
    )


def _write_activities(
    world: World,
    rng: np.random.Generator,
    parts: Sequence[Activities],
    leads: Leads,
    accounts: Accounts,
    cd: ChunkDeals,
    account_numbers: Arr,
    deal_numbers: Arr,
    writers: dict[str, TableWriter],
    counters: Counters,
    chunk: int,
) -> None:
    merged = Activities(
        **{name: np.concatenate([getattr(part, name) for part in parts]) for name in Activities.__dataclass_fields__}
    )
    order = np.argsort(merged.time, kind="stable")
    a = Activities(**{name: getattr(merged, name)[order] for name in Activities.__dataclass_fields__})
    n = len(a.time)
    account = np.where(a.deal >= 0, _lookup(cd.deals.account, a.deal), a.account)
    country = np.where(a.lead >= 0, _lookup(leads.country, a.lead), _lookup(accounts.country, account))
    occurred = _timestamps(rng, a.time, country)
    if chunk == 0 and n:
        occurred = pc.if_else(pa.array(np.arange(n) == 0), pa.scalar("not a date"), occurred)
    writers["activities"].write(
        {
            "activity_id": _ids("act", counters.activity + np.arange(1, n + 1)),
            "activity_type": _enum(rng, a.kind, ACTIVITY_TYPES, 0.01),
            "direction": _enum(rng, a.inbound.astype(np.int64), ("outbound", "inbound"), 0.01),
            "user_id": world.user_ids(a.user),
            "lead_id": _ids("lead", leads.number[np.maximum(a.lead, 0)], a.lead < 0),
            "opportunity_id": _ids("opp", _lookup(deal_numbers, a.deal), a.deal < 0),
            "account_id": _ids("acc", _lookup(account_numbers, account), account < 0),
            "occurred_at": occurred,
            "outcome": _nullify(_enum(rng, np.maximum(a.outcome, 0), OUTCOMES, 0.01), a.outcome < 0),
        }
    )
    counters.activity += n


def _write_touches(
    world: World, rng: np.random.Generator, leads: Leads, writers: dict[str, TableWriter], counters: Counters
) -> None:
    touches = _touches(world, rng, leads)
    n = len(touches.lead)
    writers["campaign_touches"].write(
        {
            "touch_id": _ids("tch", counters.touch + np.arange(1, n + 1)),
            "campaign_id": _take([f"cmp_{i + 1:03d}" for i in range(len(CAMPAIGN_PLANS))], touches.campaign),
            "lead_id": _ids("lead", leads.number[touches.lead]),
            "touched_at": _timestamps(rng, touches.time, leads.country[touches.lead]),
            "touch_type": _enum(rng, touches.kind, TOUCH_TYPES, 0.01),
        }
    )
    counters.touch += n
