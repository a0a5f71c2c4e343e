"""The small tables, written from the world.

Stages, products, competitors and their prices, exchange rates, users, teams and memberships,
employee survey responses; after the chunks (scaled to their totals) campaigns with their daily spend
and quotas.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

import numpy as np
import pyarrow as pa

from crm_kpi.contract import TABLES_BY_NAME
from crm_kpi.generator.chunk import Totals
from crm_kpi.generator.constants import (
    CAMPAIGN_PLANS,
    CHANNEL_PROFILES,
    CHF_DEFECT_CAMPAIGN,
    COMPETITOR_PRICE_FACTOR,
    COMPETITORS,
    COUNTRIES,
    CURRENCIES,
    DAY,
    EPOCH,
    FAMILIES,
    HOUR,
    NOMINAL_RATE,
    PRODUCTS,
    REGION_CURRENCY,
    REGIONS,
    STAGES,
    TEAM_NAMES,
    Columns,
)
from crm_kpi.generator.helpers import _month_of, _month_start_days, _rng
from crm_kpi.generator.rendering import _dates, _decimal, _timestamps
from crm_kpi.generator.world import User, World
from crm_kpi.generator.writers import TableWriter


def _rows_to_columns(table: str, rows: Sequence[Sequence[str | None]]) -> Columns:
    names = TABLES_BY_NAME[table].column_names
    return {name: pa.array([row[i] for row in rows], pa.string()) for i, name in enumerate(names)}


def _day_text(epoch_day: int | None) -> str | None:
    return None if epoch_day is None else (EPOCH + timedelta(days=int(epoch_day))).isoformat()


def _stamp(rng: np.random.Generator, seconds: int, country: int) -> str:
    rendered = _timestamps(rng, np.array([seconds]), np.array([country]))[0].as_py()
    return str(rendered)


def _write_reference(world: World, writers: dict[str, TableWriter]) -> None:
    rng = _rng(world.seed, 2)
    writers["stages"].write(_rows_to_columns("stages", [(s, str(o), p, c, w) for s, o, p, c, w in STAGES]))
    product_updated = world.start_s - 90 * DAY
    writers["products"].write(
        _rows_to_columns(
            "products",
            [
                (
                    f"prd_{i + 1:02d}",
                    name,
                    FAMILIES[family],
                    str(tier),
                    f"{price:.2f}",
                    f"{cost:.2f}",
                    "USD",
                    _stamp(rng, product_updated + i * 3 * HOUR, 0),
                )
                for i, (name, family, tier, price, cost) in enumerate(PRODUCTS)
            ],
        )
    )
    writers["competitors"].write(
        _rows_to_columns("competitors", [(f"cpt_{i + 1:02d}", name) for i, name in enumerate(COMPETITORS)])
    )
    months = _month_start_days(world.start_day, world.end_day)
    price_rows: list[tuple[str | None, ...]] = []
    for c, factor in enumerate(COMPETITOR_PRICE_FACTOR):
        currency = ("USD", "USD", "USD", "USD", "EUR", "GBP")[c]
        offered = [p for p in range(len(PRODUCTS)) if rng.random() < 0.6]
        for p in offered:
            drift = rng.normal(0.0, 0.04)
            for m, month in enumerate(months):
                day = int(month + rng.integers(0, 28))
                if day > world.end_day:
                    continue
                usd = PRODUCTS[p][3] * factor * (1 + drift * m / 12) * rng.uniform(0.97, 1.03)
                local = usd / NOMINAL_RATE[CURRENCIES.index(currency)]
                price_rows.append((f"cpt_{c + 1:02d}", f"prd_{p + 1:02d}", _day_text(day), f"{local:.2f}", currency))
    writers["competitor_prices"].write(_rows_to_columns("competitor_prices", price_rows))
    days = np.arange(world.start_day - 30, world.end_day + 1)
    for currency in CURRENCIES[1:]:
        base = np.log(NOMINAL_RATE[CURRENCIES.index(currency)])
        shocks = rng.normal(0.0, 0.0035, len(days))
        log_rate = np.empty(len(days))
        level = base
        for i, shock in enumerate(shocks):
            level += shock + 0.01 * (base - level)
            log_rate[i] = level
        micro = np.round(np.exp(log_rate) * 1e6).astype(np.int64)
        writers["exchange_rates"].write(
            {
                "currency": pa.array([currency] * len(days), pa.string()),
                "rate_date": _dates(days),
                "rate_to_reporting": _decimal(micro, 6),
            }
        )


def _write_people(world: World, writers: dict[str, TableWriter]) -> None:
    rng = _rng(world.seed, 3)
    rows: list[tuple[str | None, ...]] = []
    stale_rows: list[tuple[str | None, ...]] = []
    leavers = [u for u in world.users if u.left_day is not None]
    role_variant = {5: "AE", 9: " sdr"}
    for user in world.users:
        if user.left_day is not None:
            updated = (user.left_day + 1) * DAY + 9 * HOUR
        elif user.deleted:
            updated = (user.hired_day + 5) * DAY + 11 * HOUR
        else:
            first = max(user.hired_day, world.start_day)
            updated = (first + int(rng.integers(0, max(world.end_day - first, 1)))) * DAY + int(rng.integers(0, DAY))
        updated = min(updated, world.end_cut - 1)
        manager = None if user.manager is None else world.users[user.manager].user_id
        row = (
            user.user_id,
            user.full_name,
            user.email,
            role_variant.get(user.index, user.role),
            manager,
            REGIONS[user.region],
            COUNTRIES[user.country].code,
            _day_text(user.hired_day),
            _day_text(user.left_day),
            _stamp(rng, updated, user.country),
            "true" if user.deleted else ("false" if user.index % 3 else None),
        )
        rows.append(row)
        if user in leavers[:2]:
            older = max(user.hired_day * DAY, updated - 200 * DAY)
            stale_rows.append((*row[:8], None, _stamp(rng, older, user.country), "false"))
    writers["users"].write(_rows_to_columns("users", rows + stale_rows))
    managers = {u.region: u for u in world.users if u.role == "manager" and u.stints}
    writers["teams"].write(
        _rows_to_columns(
            "teams",
            [
                (
                    f"team_{r + 1:02d}",
                    TEAM_NAMES[r],
                    managers[r].user_id,
                    REGIONS[r],
                    _stamp(rng, world.start_s - (40 - r) * DAY, managers[r].country),
                )
                for r in range(len(REGIONS))
            ],
        )
    )
    memberships = sorted(
        (user.index, start, team, end) for user in world.users if not user.deleted for team, start, end in user.stints
    )
    writers["team_memberships"].write(
        _rows_to_columns(
            "team_memberships",
            [
                (world.users[u].user_id, f"team_{team + 1:02d}", _day_text(start), _day_text(end))
                for u, start, team, end in memberships
            ],
        )
    )
    _write_employee_surveys(world, rng, writers)


def _write_employee_surveys(world: World, rng: np.random.Generator, writers: dict[str, TableWriter]) -> None:
    mood = rng.normal(0.0, 0.6, len(REGIONS))
    personal = rng.normal(0.0, 0.8, len(world.users))
    quarter_days = [
        int(d) + 14
        for d in _month_start_days(world.start_day, world.end_day)
        if _month_of(np.array([d]))[0] in (1, 4, 7, 10)
    ]
    rows: list[tuple[int, int, int]] = []
    for day in quarter_days:
        if day > world.end_day:
            continue
        for user in world.users:
            employed = user.hired_day <= day and (user.left_day is None or day <= user.left_day)
            if user.deleted or not employed or rng.random() >= 0.75:
                continue
            leaving = user.left_day is not None and user.left_day - day < 120
            score = 7.0 + mood[user.region] + personal[user.index] - 2.5 * leaving + rng.normal(0.0, 1.5)
            moment = day * DAY + int(rng.integers(6 * HOUR, 60 * HOUR))
            rows.append((min(moment, world.end_cut - 1), user.index, int(np.clip(round(score), 0, 10))))
    rows.sort()
    writers["employee_survey_responses"].write(
        _rows_to_columns(
            "employee_survey_responses",
            [
                (f"ersp_{i + 1:06d}", world.users[u].user_id, _stamp(rng, moment, world.users[u].country), str(score))
                for i, (moment, u, score) in enumerate(rows)
            ],
        )
    )


def _write_campaigns(world: World, totals: Totals, writers: dict[str, TableWriter]) -> None:
    rng = _rng(world.seed, 4)
    spend_rows: list[tuple[str | None, ...]] = []
    campaign_rows: list[tuple[str | None, ...]] = []
    stale_rows: list[tuple[str | None, ...]] = []
    day_weights = np.diff(np.concatenate([[0.0], world.day_cdf]))
    channel_variant = {4: "Paid_Social ", 8: "DISPLAY"}
    for c, plan in enumerate(CAMPAIGN_PLANS):
        currency = "USD" if plan.region < 0 else REGION_CURRENCY[plan.region]
        rate = NOMINAL_RATE[CURRENCIES.index(currency)]
        first = max(int(world.campaign_start[c]), world.start_day)
        last = int(world.campaign_end[c])
        cpl = CHANNEL_PROFILES[plan.channel].cost_per_lead_usd
        total = 0
        if not plan.deleted and cpl > 0 and last >= first:
            days = np.arange(first, last + 1)
            leads = float(totals.campaign_leads[c])
            efficiency = rng.uniform(0.8, 1.25)
            budget_usd = cpl * leads * efficiency + 3.0 * len(days)
            weights = day_weights[days - world.start_day] * np.exp(rng.normal(0.0, 0.25, len(days)))
            cents = np.round(budget_usd / rate * 100 * weights / weights.sum()).astype(np.int64)
            total = int(cents.sum())
            for i, (day, amount) in enumerate(zip(days, cents, strict=True)):
                chf = c + 1 == CHF_DEFECT_CAMPAIGN and i == 0
                spend_rows.append(
                    (f"cmp_{c + 1:03d}", _day_text(int(day)), f"{amount / 100:.2f}", "CHF" if chf else currency)
                )
        running = bool(world.campaign_running_at_end[c])
        planned = max(1, -(-int(total * 1.1) // 100_000)) * 1000  # 10% above the spend, whole thousands
        budget = None if cpl == 0 or plan.deleted or (running and c % 2 == 0) else f"{planned:.2f}"
        ended = None if running else _day_text(last)
        updated_day = int(world.campaign_start[c]) - 10 if plan.deleted else min(last + 2, world.end_day)
        country = next(i for i, k in enumerate(COUNTRIES) if k.region == max(plan.region, 0))
        updated = _stamp(rng, updated_day * DAY + 10 * HOUR, country)
        row = (
            f"cmp_{c + 1:03d}",
            plan.name,
            channel_variant.get(c, plan.channel),
            None if plan.region < 0 else REGIONS[plan.region],
            _day_text(int(world.campaign_start[c])),
            ended,
            budget,
            currency,
            updated,
            "true" if plan.deleted else ("false" if c % 4 else None),
        )
        campaign_rows.append(row)
        if c in (4, 15):  # re-exported with the plan as it was before the campaign ended
            stale_updated = _stamp(rng, int(world.campaign_start[c]) * DAY + 8 * HOUR, country)
            stale_rows.append((*row[:5], None, None, currency, stale_updated, "false"))
    writers["campaigns"].write(_rows_to_columns("campaigns", campaign_rows + stale_rows))
    writers["campaign_spend"].write(_rows_to_columns("campaign_spend", spend_rows))


QUOTA_SEASON = np.array([0.9, 0.95, 1.1, 0.95, 1.0, 1.1, 0.85, 0.85, 1.05, 1.05, 1.1, 1.2])


def _write_quotas(world: World, totals: Totals, writers: dict[str, TableWriter]) -> None:
    rng = _rng(world.seed, 5)
    months = [int(m) for m in _month_start_days(world.start_day, world.end_day)]
    if not months or months[0] != world.start_day:
        months = [int(world.start_day - (EPOCH + timedelta(days=world.start_day)).day + 1), *months]
    reps = [u for u in world.users if u.role in ("ae", "am") and not u.deleted]
    quota_months: list[tuple[User, int, int]] = []  # user, month, team
    for user in reps:
        for team, first, last in user.stints:
            for month in months:
                month_end = (
                    int(
                        (np.datetime64(month, "D").astype("datetime64[M]") + 1).astype("datetime64[D]").astype(np.int64)
                    )
                    - 1
                )
                if first <= month_end and (last is None or last >= month):
                    quota_months.append((user, month, team))
    rep_months = np.zeros((len(REGIONS), 2))
    for user, _, team in quota_months:
        rep_months[team, int(user.role == "am")] += 1
    per_rep_month = np.maximum(totals.bookings_usd / np.maximum(rep_months, 1), [[20_000.0, 5_000.0]])
    rows: list[tuple[str | None, ...]] = []
    team_totals: dict[tuple[int, int], float] = {}
    for user, month, team in quota_months:
        tenure = (month - user.hired_day) / 30.4
        ramp = 0.5 if tenure < 2 else (0.75 if tenure < 4 else 1.0)
        season = QUOTA_SEASON[_month_of(np.array([month]))[0] - 1]
        usd = per_rep_month[team, int(user.role == "am")] * 1.1 * season * ramp * rng.uniform(0.95, 1.05)
        unit = 10_000 if REGION_CURRENCY[team] == "INR" else 100
        local = round(usd / NOMINAL_RATE[team] / unit) * unit
        team_totals[(team, month)] = team_totals.get((team, month), 0.0) + local
        rows.append((None, user.user_id, None, _day_text(month), f"{local:.2f}", REGION_CURRENCY[team]))
    for (team, month), amount in sorted(team_totals.items()):
        unit = 10_000 if REGION_CURRENCY[team] == "INR" else 100
        rows.append(
            (
                None,
                None,
                f"team_{team + 1:02d}",
                _day_text(month),
                f"{round(amount * 0.95 / unit) * unit:.2f}",
                REGION_CURRENCY[team],
            )
        )
    writers["quotas"].write(
        _rows_to_columns("quotas", [(f"quota_{i + 1:06d}", *row[1:]) for i, row in enumerate(rows)])
    )
