"""Deterministic generator of a believable raw CRM export (every table of the raw contract).

One seeded random.Random drives everything, entities are generated in a fixed order and written in a
fixed order, so the same arguments give byte-identical files. The behaviour it models:

- reps of different skill (win rate and deal size differ per AE), regions with their own currency and
  UTC offsets, hires and leavers, a team move;
- campaigns over 11 channels with very different cost per lead and conversion, daily spend while they
  run, lead volume with seasonality (Q4 peak, summer dip) and growth;
- lead lifecycles new -> working -> mql -> sql -> converted with disqualifications, recycles and
  histories that skip the mql row; conversions create accounts and opportunities;
- opportunities moving through the stages with amount changes and close dates that slip past month
  ends, lost to competitors, some still open at the end; upsells on existing customers;
- subscriptions that start on won deals, expand, contract, churn and sometimes come back; monthly
  invoices and a few refunds; rep activities; customer and employee surveys; competitor prices;
- raw-export realism: mixed ISO 8601 timestamp forms and UTC offsets, re-exported rows with an older
  updated_at, soft deletes, enums in other case or with spaces, names in many scripts, quoting.

INJECTED_DEFECTS lists the few rows that are invalid on purpose (the warehouse must quarantine them).
"""

from __future__ import annotations

import csv
import io
import math
import random
from collections.abc import Callable, Iterable
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from crm_kpi.contract import TABLES

Row = dict[str, Any]

INJECTED_DEFECTS: tuple[dict[str, str], ...] = (
    {"table": "leads", "id": "lead_9999990", "column": "channel", "reason": "unknown value 'tv'"},
    {"table": "survey_responses", "id": "rsp_9999990", "column": "score", "reason": "nps score 11"},
    {"table": "campaign_spend", "id": "cmp_001|<first spend day>", "column": "currency", "reason": "CHF has no rate"},
    {"table": "activities", "id": "act_99999990", "column": "occurred_at", "reason": "'not a date'"},
)

REGIONS: dict[str, dict[str, Any]] = {
    "na": {"currency": "USD", "countries": [("US", "-05:00"), ("US", "-08:00"), ("CA", "-05:00")]},
    "emea": {
        "currency": "EUR",
        "countries": [("DE", "+01:00"), ("FR", "+01:00"), ("GB", "+00:00"), ("RU", "+03:00"), ("IR", "+03:30")],
    },
    "apac": {"currency": "JPY", "countries": [("JP", "+09:00"), ("VN", "+07:00"), ("IN", "+05:30")]},
}
COUNTRY_CURRENCY = {"GB": "GBP", "IN": "USD"}
FX_START = {"EUR": 1.08, "GBP": 1.27, "JPY": 0.0067}

FIRST_NAMES = {
    "US": ["James", "Mary", "Robert", "Linda", "Michael", "Sarah"],
    "CA": ["Liam", "Emma", "Noah", "Olivia"],
    "DE": ["Jürgen", "Anneliese", "Björn", "Käthe", "Uwe"],
    "FR": ["Étienne", "Élodie", "François", "Zoé"],
    "GB": ["Oliver", "Amelia", "Harry", "Isla"],
    "RU": ["Дмитрий", "Ольга", "Сергей", "Наталья"],
    "IR": ["علی", "مریم", "رضا", "زهرا"],
    "JP": ["翔太", "さくら", "健", "陽菜"],
    "VN": ["Nguyễn Văn", "Trần Thị", "Lê Hoàng", "Phạm Minh"],
    "IN": ["Aarav", "Priya", "Rohan", "Ananya"],
}
LAST_NAMES = {
    "US": ["Smith", "Johnson", "O'Brien", "Garcia"],
    "CA": ["Tremblay", "Roy", "Wilson"],
    "DE": ["Müller", "Schröder", "Weiß"],
    "FR": ["Lefèvre", "Dubois", "Moreau"],
    "GB": ["Taylor", "Brown", "Davies"],
    "RU": ["Иванов", "Смирнова", "Кузнецов"],
    "IR": ["محمدی", "حسینی", "رضایی"],
    "JP": ["佐藤", "鈴木", "高橋"],
    "VN": ["Anh", "Hương", "Dũng"],
    "IN": ["Sharma", "Patel", "Iyer"],
}
COMPANY_WORDS = {
    "US": ["Acme", "Summit", "Blue Ridge", "Pioneer"],
    "CA": ["Maple", "Northern", "Laurentian"],
    "DE": ["Müller", "Bäckerei", "Großhandel"],
    "FR": ["Société", "Atelier", "Maison"],
    "GB": ["Thames", "Oxford", "Brighton"],
    "RU": ["Север", "Техно", "Волга"],
    "IR": ["شرکت", "پارس", "آریا"],
    "JP": ["株式会社", "山田", "東京"],
    "VN": ["Công ty", "Sao Việt", "Hà Nội"],
    "IN": ["Infotech", "Bharat", "Ganga"],
}
COMPANY_SUFFIX = ["GmbH", "Ltd", "Inc.", "S.A.", "LLC", "Co.", "Group"]

# channel: (weight, cost per lead in USD, mql, sql|mql, opp|sql, win factor)
CHANNELS: dict[str, tuple[float, float, float, float, float, float]] = {
    "paid_search": (0.20, 95.0, 0.45, 0.50, 0.60, 1.00),
    "paid_social": (0.14, 60.0, 0.35, 0.40, 0.50, 0.85),
    "display": (0.10, 22.0, 0.18, 0.30, 0.40, 0.70),
    "email": (0.10, 12.0, 0.40, 0.45, 0.55, 0.95),
    "events": (0.07, 240.0, 0.60, 0.55, 0.65, 1.15),
    "content": (0.08, 35.0, 0.38, 0.42, 0.50, 0.90),
    "webinar": (0.07, 55.0, 0.55, 0.50, 0.55, 1.00),
    "referral": (0.06, 18.0, 0.70, 0.65, 0.75, 1.35),
    "partner": (0.05, 70.0, 0.55, 0.60, 0.65, 1.20),
    "outbound": (0.06, 110.0, 0.30, 0.45, 0.55, 0.90),
    "organic": (0.07, 0.0, 0.42, 0.48, 0.55, 1.05),
}
PRODUCTS = [
    ("analytics", ["Analytics Starter", "Analytics Pro", "Analytics Enterprise"], [400, 1200, 3500]),
    ("crm", ["CRM Basic", "CRM Plus", "CRM Ultimate"], [300, 900, 2600]),
    ("support", ["Support Desk", "Support Desk Plus", "Support Desk 24/7"], [150, 450, 1300]),
]
INDUSTRIES = ["software", "manufacturing", "retail", "finance", "healthcare", "logistics", "education", None]
LOST_REASONS = ["price", "competitor", "no decision", "timing", "features"]
STAGES = [
    ("prospecting", 1, "0.10", "false", "false"),
    ("qualification", 2, "0.25", "false", "false"),
    ("proposal", 3, "0.50", "false", "false"),
    ("negotiation", 4, "0.75", "false", "false"),
    ("closed_won", 5, "1.00", "true", "true"),
    ("closed_lost", 6, "0.00", "true", "false"),
]


class _Clock:
    """Timestamps rendered the way CRM exports do: mixed ISO 8601 forms with local offsets."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def stamp(self, moment: datetime, offset: str) -> str:
        """`moment` is UTC; render it in the local offset, sometimes as Z or without an offset."""
        form = self.rng.random()
        if form < 0.2:
            return moment.strftime("%Y-%m-%d %H:%M:%S") + "Z"
        if form < 0.35:
            return moment.strftime("%Y-%m-%d %H:%M:%S")
        sign = -1 if offset.startswith("-") else 1
        hours, minutes = int(offset[1:3]), int(offset[4:6])
        local = moment + sign * timedelta(hours=hours, minutes=minutes)
        return local.strftime("%Y-%m-%dT%H:%M:%S") + offset


def _money(value: float) -> str:
    return f"{value:.2f}"


def _day(value: date) -> str:
    return value.isoformat()


def _vary_case(rng: random.Random, value: str) -> str:
    """An enum as exports write it: mostly as is, sometimes in other case or padded (still valid)."""
    roll = rng.random()
    if roll < 0.03:
        return value.upper()
    if roll < 0.05:
        return value.title() + " "
    return value


class _Generator:
    def __init__(self, leads: int, start: date, end: date, seed: int) -> None:
        self.rng = random.Random(seed)
        self.clock = _Clock(self.rng)
        self.n_leads, self.start, self.end = leads, start, end
        self.end_moment = datetime.combine(end, datetime.max.time()).replace(microsecond=0)
        self.tables: dict[str, list[Row]] = {table.name: [] for table in TABLES}
        self.counters: dict[str, int] = {}

    # ids -----------------------------------------------------------------------------------------
    def next_id(self, prefix: str, width: int) -> str:
        self.counters[prefix] = self.counters.get(prefix, 0) + 1
        return f"{prefix}_{self.counters[prefix]:0{width}d}"

    def moment_between(self, first: datetime, last: datetime) -> datetime:
        span = max((last - first).total_seconds(), 1.0)
        return first + timedelta(seconds=int(self.rng.random() * span))

    def business_time(self, day: date) -> datetime:
        return datetime.combine(day, datetime.min.time()) + timedelta(minutes=self.rng.randint(6 * 60, 22 * 60))

    # reference data ------------------------------------------------------------------------------
    def reference_tables(self) -> None:
        for stage, order, probability, closed, won in STAGES:
            self.tables["stages"].append(
                {"stage": stage, "sort_order": order, "probability": probability, "is_closed": closed, "is_won": won}
            )
        day = self.start - timedelta(days=30)
        rates = dict(FX_START)
        while day <= self.end:
            for currency in sorted(rates):
                rates[currency] *= math.exp(self.rng.gauss(0, 0.003))
                precision = 8 if currency == "JPY" else 6
                self.tables["exchange_rates"].append(
                    {
                        "currency": currency,
                        "rate_date": _day(day),
                        "rate_to_reporting": f"{rates[currency]:.{precision}f}",
                    }
                )
            day += timedelta(days=1)
        self.products: list[Row] = []
        for family_index, (family, names, prices) in enumerate(PRODUCTS):
            for tier, (name, price) in enumerate(zip(names, prices, strict=True), start=1):
                row = {
                    "product_id": f"prd_{family_index * 3 + tier:02d}",
                    "product_name": name,
                    "family": family,
                    "tier": tier,
                    "list_price": _money(price),
                    "unit_cost": _money(price * self.rng.uniform(0.18, 0.35)),
                    "currency": "USD",
                    "updated_at": self.clock.stamp(
                        datetime.combine(self.start - timedelta(days=40), datetime.min.time()), "+00:00"
                    ),
                }
                self.products.append(row)
        self.tables["products"] = list(self.products)
        for index, name in enumerate(
            ["Northwind Analytics", "Contoso CRM", "Globex Support", "Initech Suite", "Umbrella Data"], 1
        ):
            self.tables["competitors"].append({"competitor_id": f"cpt_{index:02d}", "competitor_name": name})
        month = self.start.replace(day=1)
        while month <= self.end:
            for competitor in self.tables["competitors"]:
                for product in self.products:
                    if self.rng.random() < 0.35:
                        observed = month + timedelta(days=self.rng.randint(0, 27))
                        if observed > self.end:
                            continue
                        observed_price = float(product["list_price"]) * self.rng.uniform(0.8, 1.25)
                        self.tables["competitor_prices"].append(
                            {
                                "competitor_id": competitor["competitor_id"],
                                "product_id": product["product_id"],
                                "observed_on": _day(observed),
                                "price": _money(observed_price),
                                "currency": "USD",
                            }
                        )
            month = (month + timedelta(days=32)).replace(day=1)

    # people --------------------------------------------------------------------------------------
    def person_name(self, country: str) -> tuple[str, str]:
        return self.rng.choice(FIRST_NAMES[country]), self.rng.choice(LAST_NAMES[country])

    def users_and_teams(self) -> None:
        self.reps: dict[str, list[Row]] = {region: [] for region in REGIONS}
        self.sdrs: dict[str, list[Row]] = {region: [] for region in REGIONS}
        self.ams: dict[str, list[Row]] = {region: [] for region in REGIONS}
        self.skill: dict[str, float] = {}
        for team_index, (region, info) in enumerate(REGIONS.items(), start=1):
            team_id = f"team_{team_index:02d}"
            manager = self.add_user("manager", region, info, hired=self.start - timedelta(days=900))
            self.tables["teams"].append(
                {
                    "team_id": team_id,
                    "team_name": f"{region.upper()} Sales",
                    "manager_user_id": manager["user_id"],
                    "region": region,
                    "updated_at": self.clock.stamp(self.business_time(self.start - timedelta(days=60)), "+00:00"),
                }
            )
            plan = [("sdr", 3), ("bdr", 2), ("ae", 4), ("am", 2)]
            for role, count in plan:
                for index in range(count):
                    hired = self.start - timedelta(days=self.rng.randint(60, 1200))
                    if index == count - 1 and role in ("ae", "sdr"):
                        hired = self.start + timedelta(days=self.rng.randint(120, 400))  # a mid-period hire
                    user = self.add_user(role, region, info, hired=hired, manager=manager["user_id"])
                    if role == "ae" and index == 0 and team_index == 2:
                        user["left_on"] = _day(self.start + timedelta(days=420))  # a leaver
                    if role in ("ae",):
                        self.reps[region].append(user)
                        self.skill[user["user_id"]] = self.rng.uniform(0.6, 1.5)
                    elif role in ("sdr", "bdr"):
                        self.sdrs[region].append(user)
                    else:
                        self.ams[region].append(user)
                        self.skill[user["user_id"]] = self.rng.uniform(0.8, 1.2)
                    self.tables["team_memberships"].append(
                        {
                            "user_id": user["user_id"],
                            "team_id": team_id,
                            "started_on": user["hired_on"],
                            "ended_on": user["left_on"],
                        }
                    )
            self.team_by_region = {region: f"team_{i:02d}" for i, region in enumerate(REGIONS, start=1)}
        for _ in range(3):
            self.add_user("marketing", "na", REGIONS["na"], hired=self.start - timedelta(days=500))
        # a team move: the first NA SDR moves to EMEA half way
        mover = self.sdrs["na"][0]
        move_day = self.start + timedelta(days=365)
        self.tables["team_memberships"][self._membership_index(mover["user_id"])]["ended_on"] = _day(
            move_day - timedelta(days=1)
        )
        self.tables["team_memberships"].append(
            {"user_id": mover["user_id"], "team_id": "team_02", "started_on": _day(move_day), "ended_on": None}
        )
        # a test user created by mistake and soft-deleted
        ghost = self.add_user("sdr", "na", REGIONS["na"], hired=self.start)
        ghost["is_deleted"] = "true"
        ghost["full_name"] = "Test User"

    def _membership_index(self, user_id: str) -> int:
        return next(i for i, row in enumerate(self.tables["team_memberships"]) if row["user_id"] == user_id)

    def add_user(self, role: str, region: str, info: dict[str, Any], hired: date, manager: str | None = None) -> Row:
        country, offset = self.rng.choice(info["countries"])
        first, last = self.person_name(country)
        user_id = self.next_id("usr", 4)
        row: Row = {
            "user_id": user_id,
            "full_name": f"{first} {last}",
            "email": f"{user_id}@example-crm.com",
            "role": _vary_case(self.rng, role),
            "manager_user_id": manager,
            "region": region,
            "country": country,
            "hired_on": _day(hired),
            "left_on": None,
            "updated_at": self.clock.stamp(self.business_time(max(hired, self.start - timedelta(days=30))), offset),
            "is_deleted": self.rng.choice(["false", ""]),
        }
        row["_offset"] = offset
        self.tables["users"].append(row)
        return row

    def quotas(self) -> None:
        for region in REGIONS:
            currency = REGIONS[region]["currency"]
            rate = FX_START.get(currency, 1.0)
            for user in self.reps[region] + self.ams[region]:
                month = max(date.fromisoformat(user["hired_on"]), self.start).replace(day=1)
                left = date.fromisoformat(user["left_on"]) if user["left_on"] else self.end
                target = (42000 if user["role"].strip().lower() == "ae" else 18000) * self.skill[user["user_id"]] ** 0.3
                while month <= min(left, self.end):
                    season = 1.25 if month.month in (10, 11, 12) else 0.85 if month.month in (7, 8) else 1.0
                    self.tables["quotas"].append(
                        {
                            "quota_id": self.next_id("quota", 6),
                            "user_id": user["user_id"],
                            "team_id": None,
                            "month_start": _day(month),
                            "amount": _money(round(target * season / rate, -2)),
                            "currency": currency,
                        }
                    )
                    month = (month + timedelta(days=32)).replace(day=1)
            month = self.start.replace(day=1)
            while month <= self.end:
                self.tables["quotas"].append(
                    {
                        "quota_id": self.next_id("quota", 6),
                        "user_id": None,
                        "team_id": self.team_by_region[region],
                        "month_start": _day(month),
                        "amount": _money(round(180000 / rate, -3)),
                        "currency": currency,
                    }
                )
                month = (month + timedelta(days=32)).replace(day=1)

    # marketing -----------------------------------------------------------------------------------
    def campaigns(self) -> None:
        self.running: list[Row] = []
        names = ["Spring Launch", "Summer Push", "Autumn Pipeline", "Year End", "Always On", "Partner Days", "Brand"]
        channel_list = [channel for channel in CHANNELS if channel != "organic"]
        for index in range(26):
            channel = channel_list[index % len(channel_list)]
            region = list(REGIONS)[index % 3]
            started = self.start + timedelta(days=self.rng.randint(-20, 540))
            length = self.rng.choice([60, 90, 120, 180, 365, None])
            ended = started + timedelta(days=length) if length else None
            if ended and ended > self.end:
                ended = None
            currency = REGIONS[region]["currency"]
            rate = FX_START.get(currency, 1.0)
            row: Row = {
                "campaign_id": self.next_id("cmp", 3),
                "campaign_name": f"{self.rng.choice(names)} {channel.replace('_', ' ').title()} {region.upper()}",
                "channel": _vary_case(self.rng, channel),
                "region": region,
                "started_on": _day(started),
                "ended_on": _day(ended) if ended else None,
                "budget": _money(round(self.rng.uniform(5000, 60000) / rate, -2)) if self.rng.random() < 0.9 else None,
                "currency": currency,
                "updated_at": self.clock.stamp(self.business_time(started - timedelta(days=10)), "+00:00"),
                "is_deleted": "false",
                "_channel": channel,
                "_start": started,
                "_end": ended or self.end,
            }
            self.tables["campaigns"].append(row)
            self.running.append(row)
        # two campaigns created by mistake: soft-deleted, no spend, no leads
        for _ in range(2):
            self.tables["campaigns"].append(
                {
                    "campaign_id": self.next_id("cmp", 3),
                    "campaign_name": "DRAFT - do not use",
                    "channel": "email",
                    "region": None,
                    "started_on": _day(self.start + timedelta(days=100)),
                    "ended_on": None,
                    "budget": None,
                    "currency": "USD",
                    "updated_at": self.clock.stamp(self.business_time(self.start + timedelta(days=99)), "+00:00"),
                    "is_deleted": "true",
                }
            )

    def spend(self, leads_per_campaign: dict[str, int]) -> None:
        for campaign in self.running:
            channel = campaign["_channel"]
            days = (campaign["_end"] - campaign["_start"]).days + 1
            expected_leads = max(leads_per_campaign.get(campaign["campaign_id"], 0), 3)
            rate = FX_START.get(campaign["currency"], 1.0)
            daily = CHANNELS[channel][1] * expected_leads / days / rate
            day = campaign["_start"]
            while day <= campaign["_end"]:
                weekday = 0.7 if day.weekday() >= 5 else 1.08
                self.tables["campaign_spend"].append(
                    {
                        "campaign_id": campaign["campaign_id"],
                        "spend_date": _day(day),
                        "amount": _money(daily * weekday * self.rng.uniform(0.75, 1.25)),
                        "currency": campaign["currency"],
                    }
                )
                day += timedelta(days=1)
        # INJECTED: a spend row in a currency without exchange rates
        first = self.tables["campaign_spend"][0]
        first["currency"] = "CHF"

    # leads and their lifecycle -------------------------------------------------------------------
    def lead_dates(self) -> list[datetime]:
        days = (self.end - self.start).days + 1
        weights = []
        for offset in range(days):
            day = self.start + timedelta(days=offset)
            season = {10: 1.3, 11: 1.45, 12: 1.2, 7: 0.7, 8: 0.65}.get(day.month, 1.0)
            weekday = 0.45 if day.weekday() >= 5 else 1.1
            growth = 1.0 + 0.35 * offset / days
            weights.append(season * weekday * growth)
        chosen = self.rng.choices(range(days), weights=weights, k=self.n_leads)
        moments = [self.business_time(self.start + timedelta(days=offset)) for offset in sorted(chosen)]
        return moments

    def leads(self) -> None:
        self.accounts_by_region: dict[str, list[Row]] = {region: [] for region in REGIONS}
        self.opportunity_rows: list[Row] = []
        leads_per_campaign: dict[str, int] = {}
        channels = list(CHANNELS)
        channel_weights = [CHANNELS[channel][0] for channel in channels]
        for created in self.lead_dates():
            region = self.rng.choices(list(REGIONS), weights=[0.45, 0.35, 0.2])[0]
            country, offset = self.rng.choice(REGIONS[region]["countries"])
            channel = self.rng.choices(channels, weights=channel_weights)[0]
            candidates = [
                c for c in self.running if c["_channel"] == channel and c["_start"] <= created.date() <= c["_end"]
            ]
            campaign = self.rng.choice(candidates) if candidates else None
            if campaign is None and channel not in ("organic", "referral") and self.running:
                campaign = self.rng.choice(
                    [c for c in self.running if c["_start"] <= created.date() <= c["_end"]] or [None]
                )
                if campaign is not None:
                    channel = campaign["_channel"]
            if campaign is not None:
                leads_per_campaign[campaign["campaign_id"]] = leads_per_campaign.get(campaign["campaign_id"], 0) + 1
            self.one_lead(created, region, country, offset, channel, campaign)
        self.spend(leads_per_campaign)

    def one_lead(
        self, created: datetime, region: str, country: str, offset: str, channel: str, campaign: Row | None
    ) -> None:
        rng = self.rng
        lead_id = self.next_id("lead", 7)
        first, last = self.person_name(country)
        company = f"{rng.choice(COMPANY_WORDS[country])} {rng.choice(COMPANY_SUFFIX)}"
        if rng.random() < 0.05:
            company = f'{company.split()[0]}, "{rng.choice(["Holdings", "Partners"])}"'
        owner = rng.choice(self.sdrs[region])
        _, _, p_mql, p_sql, p_opp, _ = CHANNELS[channel]
        history: list[tuple[str, datetime]] = [("new", created)]
        moment = created + timedelta(hours=rng.uniform(0.5, 72))
        converted_account = converted_opportunity = converted_at = None
        if rng.random() < 0.85:
            history.append(("working", moment))
            if rng.random() < p_mql:
                moment += timedelta(days=rng.uniform(0.5, 20))
                skip_mql = rng.random() < 0.1
                if not skip_mql:
                    history.append(("mql", moment))
                if rng.random() < p_sql:
                    moment += timedelta(days=rng.uniform(0.5, 15))
                    history.append(("sql", moment))
                    if rng.random() < p_opp:
                        moment += timedelta(days=rng.uniform(0.2, 10))
                        history.append(("converted", moment))
                        converted_at = moment
                    elif rng.random() < 0.6:
                        history.append(("disqualified", moment + timedelta(days=rng.uniform(1, 20))))
                elif rng.random() < 0.7:
                    history.append(("disqualified", moment + timedelta(days=rng.uniform(1, 30))))
            elif rng.random() < 0.5:
                disqualified = moment + timedelta(days=rng.uniform(1, 30))
                history.append(("disqualified", disqualified))
                if rng.random() < 0.25:
                    history.append(("recycled", disqualified + timedelta(days=rng.uniform(20, 90))))
        history = [(status, when) for status, when in history if when <= self.end_moment]
        if converted_at is not None and converted_at > self.end_moment:
            converted_at = None
        status = history[-1][0]
        if converted_at is not None:
            account = self.account_for(region, country, offset, company, converted_at)
            converted_account = account["account_id"]
            opportunity = self.opportunity(account, region, offset, converted_at, "new_business", lead_id, channel)
            converted_opportunity = opportunity["opportunity_id"]
        deleted = rng.random() < 0.01 and converted_at is None
        row: Row = {
            "lead_id": lead_id,
            "created_at": self.clock.stamp(created, offset),
            "source_campaign_id": campaign["campaign_id"] if campaign else None,
            "channel": _vary_case(rng, channel),
            "owner_user_id": owner["user_id"],
            "region": region,
            "country": country,
            "company": company,
            "first_name": first,
            "last_name": last,
            "email": f"{lead_id.replace('_', '.')}@{country.lower()}.example.org" if rng.random() < 0.95 else None,
            "phone": f"+{rng.randint(10, 99)} {rng.randint(100, 999)} {rng.randint(1000000, 9999999)}"
            if rng.random() < 0.7
            else None,
            "status": _vary_case(rng, status),
            "converted_account_id": converted_account,
            "converted_opportunity_id": converted_opportunity,
            "converted_at": self.clock.stamp(converted_at, offset) if converted_at else None,
            "updated_at": self.clock.stamp(history[-1][1], offset),
            "is_deleted": "true" if deleted else rng.choice(["false", ""]),
        }
        self.tables["leads"].append(row)
        if len(history) > 2 and rng.random() < 0.03:  # a stale re-export: older updated_at, older status
            stale = dict(row)
            stale["status"] = history[-2][0]
            stale["updated_at"] = self.clock.stamp(history[-2][1], offset)
            stale["converted_account_id"] = stale["converted_opportunity_id"] = stale["converted_at"] = None
            self.tables["leads"].append(stale)
        for status_name, when in history:
            self.tables["lead_status_history"].append(
                {
                    "lead_id": lead_id,
                    "status": _vary_case(rng, status_name),
                    "changed_at": self.clock.stamp(when, offset),
                }
            )
        self.touches(lead_id, created, offset, campaign)
        self.lead_activities(lead_id, owner["user_id"], created, offset, history)

    def touches(self, lead_id: str, created: datetime, offset: str, campaign: Row | None) -> None:
        rng = self.rng
        moments: list[tuple[datetime, Row]] = []
        if campaign is not None:
            moments.append((created - timedelta(hours=rng.uniform(0.1, 240)), campaign))
        for _ in range(rng.randint(0, 3)):
            moment = created + timedelta(days=rng.uniform(-5, 60))
            running = [c for c in self.running if c["_start"] <= moment.date() <= c["_end"]]
            if running and moment <= self.end_moment:
                moments.append((moment, rng.choice(running)))
        for moment, touched in sorted(moments, key=lambda item: item[0]):
            self.tables["campaign_touches"].append(
                {
                    "touch_id": self.next_id("tch", 8),
                    "campaign_id": touched["campaign_id"],
                    "lead_id": lead_id,
                    "touched_at": self.clock.stamp(moment, offset),
                    "touch_type": rng.choice(["impression", "click", "form", "attended", "replied"]),
                }
            )

    def lead_activities(
        self, lead_id: str, user_id: str, created: datetime, offset: str, history: list[tuple[str, datetime]]
    ) -> None:
        rng = self.rng
        if len(history) == 1 or rng.random() < 0.1:
            return  # never touched by a rep
        moment = created + timedelta(hours=rng.lognormvariate(2.2, 1.0))
        for _ in range(rng.randint(2, 9)):
            if moment > self.end_moment:
                break
            activity_type = rng.choices(["call", "email", "meeting", "demo"], weights=[4, 5, 1, 0.5])[0]
            self.activity(activity_type, user_id, moment, offset, lead_id=lead_id)
            moment += timedelta(hours=rng.uniform(4, 120))

    def activity(self, activity_type: str, user_id: str, moment: datetime, offset: str, **links: str) -> None:
        rng = self.rng
        outcome = rng.choices(
            ["no_response", "positive", "neutral", "negative", "meeting_booked", None], weights=[40, 15, 20, 8, 7, 10]
        )[0]
        self.tables["activities"].append(
            {
                "activity_id": self.next_id("act", 8),
                "activity_type": _vary_case(rng, activity_type),
                "direction": "inbound" if rng.random() < 0.12 else "outbound",
                "user_id": user_id,
                "lead_id": links.get("lead_id"),
                "opportunity_id": links.get("opportunity_id"),
                "account_id": links.get("account_id"),
                "occurred_at": self.clock.stamp(moment, offset),
                "outcome": outcome,
            }
        )

    # accounts, deals, subscriptions --------------------------------------------------------------
    def account_for(self, region: str, country: str, offset: str, company: str, moment: datetime) -> Row:
        existing = self.accounts_by_region[region]
        if existing and self.rng.random() < 0.08:
            return self.rng.choice(existing)
        account: Row = {
            "account_id": self.next_id("acc", 6),
            "account_name": company,
            "industry": self.rng.choice(INDUSTRIES),
            "employees": self.rng.choice([12, 45, 120, 480, 1500, 7000, None]),
            "region": region,
            "country": country,
            "owner_user_id": self.rng.choice(self.reps[region])["user_id"],
            "created_at": self.clock.stamp(moment, offset),
            "updated_at": self.clock.stamp(moment + timedelta(days=1), offset),
            "is_deleted": "false",
            "_offset": offset,
            "_currency": COUNTRY_CURRENCY.get(country, REGIONS[region]["currency"]),
            "_region": region,
            "_subscription": None,
        }
        existing.append(account)
        self.tables["accounts"].append(account)
        if self.rng.random() < 0.03:
            stale = dict(account)
            stale["account_name"] = company.upper()
            stale["updated_at"] = self.clock.stamp(moment - timedelta(hours=1), offset)
            self.tables["accounts"].append(stale)
        return account

    def active_rep(self, region: str, moment: datetime) -> Row:
        reps = [
            rep
            for rep in self.reps[region]
            if date.fromisoformat(rep["hired_on"]) <= moment.date()
            and (rep["left_on"] is None or date.fromisoformat(rep["left_on"]) >= moment.date())
        ]
        return self.rng.choice(reps or self.reps[region])

    def opportunity(
        self, account: Row, region: str, offset: str, created: datetime, kind: str, lead_id: str | None, channel: str
    ) -> Row:
        rng = self.rng
        owner = self.active_rep(region, created) if kind == "new_business" else rng.choice(self.ams[region])
        skill = self.skill[owner["user_id"]]
        currency = account["_currency"]
        rate = FX_START.get(currency, 1.0)
        family_index = rng.randrange(3)
        tier = rng.choices([1, 2, 3], weights=[5, 3, 1.2 * skill])[0]
        if kind == "upsell" and account.get("_tier"):
            tier = min(3, account["_tier"] + 1)
            family_index = account["_family"]
        product = self.products[family_index * 3 + tier - 1]
        quantity = rng.randint(1, 12)
        discount = round(rng.choice([0, 0, 0.05, 0.1, 0.15, 0.2]), 2)
        unit_price = float(product["list_price"]) * 12 / rate * rng.uniform(0.95, 1.1)
        amount = round(quantity * unit_price * (1 - discount), 2)
        opportunity_id = self.next_id("opp", 7)
        line_items = [(product, quantity, unit_price, discount)]
        win_probability = min(0.85, 0.32 * skill * CHANNELS[channel][5] * (1.3 if kind != "new_business" else 1.0))
        cycle = rng.uniform(14, 75) / (0.6 + 0.4 * skill)
        expected_close = (created + timedelta(days=cycle)).date()
        path = ["prospecting", "qualification", "proposal", "negotiation"]
        will_win = rng.random() < win_probability
        lose_at = rng.randint(1, 4)
        history: list[tuple[datetime, str, float, date]] = []
        moment = created
        close_date = expected_close
        outcome_stage = None
        for step, stage in enumerate(path, start=1):
            if moment > self.end_moment:
                break
            history.append((moment, stage, amount, close_date))
            if rng.random() < 0.25:  # the amount changes during the deal
                amount = round(amount * rng.uniform(0.85, 1.15), 2)
                moment += timedelta(hours=rng.uniform(1, 48))
                if moment <= self.end_moment:
                    history.append((moment, stage, amount, close_date))
            if rng.random() < 0.3:  # the close date slips past a month end
                close_date = (close_date.replace(day=1) + timedelta(days=40)).replace(day=rng.randint(1, 28))
                moment += timedelta(hours=rng.uniform(1, 48))
                if moment <= self.end_moment:
                    history.append((moment, stage, amount, close_date))
            if not will_win and step == lose_at:
                outcome_stage = "closed_lost"
                break
            moment += timedelta(days=cycle / 4 * rng.uniform(0.5, 1.5))
        else:
            outcome_stage = "closed_won" if will_win else "closed_lost"
        closing = datetime.combine(close_date, datetime.min.time()) + timedelta(hours=rng.uniform(9, 18))
        closing = max(closing, moment)
        close_date = closing.date()
        stage_now = history[-1][1] if history else "prospecting"
        competitor = lost_reason = None
        if outcome_stage and closing <= self.end_moment:
            stage_now = outcome_stage
            history.append((closing, outcome_stage, amount, close_date))
            if outcome_stage == "closed_lost":
                lost_reason = rng.choice(LOST_REASONS)
                if lost_reason == "competitor" or rng.random() < 0.3:
                    competitor = rng.choice(self.tables["competitors"])["competitor_id"]
        elif close_date <= self.end:
            close_date = self.end + timedelta(days=rng.randint(5, 60))  # still open: expected after the end
        row: Row = {
            "opportunity_id": opportunity_id,
            "account_id": account["account_id"],
            "owner_user_id": owner["user_id"],
            "source_lead_id": lead_id,
            "opportunity_type": kind,
            "created_at": self.clock.stamp(created, offset),
            "close_date": _day(close_date),
            "stage": _vary_case(rng, stage_now) if stage_now != "closed_won" or rng.random() > 0.05 else "Closed_Won",
            "amount": _money(amount),
            "currency": currency,
            "lost_reason": lost_reason,
            "competitor_id": competitor,
            "updated_at": self.clock.stamp(history[-1][0] if history else created, offset),
            "is_deleted": "true" if stage_now == "closed_lost" and rng.random() < 0.02 else "false",
        }
        self.tables["opportunities"].append(row)
        if len(history) > 1 and rng.random() < 0.03:
            stale = dict(row)
            stale["stage"] = history[-2][1]
            stale["updated_at"] = self.clock.stamp(history[-2][0], offset)
            self.tables["opportunities"].append(stale)
        for when, stage, value, close in history:
            self.tables["opportunity_stage_history"].append(
                {
                    "opportunity_id": opportunity_id,
                    "stage": stage,
                    "amount": _money(value),
                    "close_date": _day(close),
                    "changed_at": self.clock.stamp(when, offset),
                }
            )
        self.tables["opportunity_line_items"] += [
            {
                "line_item_id": self.next_id("li", 8),
                "opportunity_id": opportunity_id,
                "product_id": item_product["product_id"],
                "quantity": item_quantity,
                "unit_price": _money(item_price),
                "discount": f"{item_discount:.2f}",
            }
            for item_product, item_quantity, item_price, item_discount in line_items
        ]
        for step in range(rng.randint(2, 7)):
            when = created + timedelta(days=cycle * step / 6)
            if when <= self.end_moment:
                kind_of = rng.choice(["call", "email", "meeting", "demo", "proposal"])
                self.activity(
                    kind_of,
                    owner["user_id"],
                    when,
                    offset,
                    opportunity_id=opportunity_id,
                    account_id=account["account_id"],
                )
        if stage_now == "closed_won" and row["is_deleted"] == "false":
            account["_tier"], account["_family"] = tier, family_index
            self.won(account, region, offset, closing, product, amount / 12, kind, currency)
        return row

    def won(
        self,
        account: Row,
        region: str,
        offset: str,
        closing: datetime,
        product: Row,
        mrr: float,
        kind: str,
        currency: str,
    ) -> None:
        """Subscriptions follow wins: new business starts one; an upsell expands the current one."""
        if kind == "new_business" and account["_subscription"] is None:
            account["_subscription"] = {
                "id": self.next_id("sub", 6),
                "product": product["product_id"],
                "start": closing.date(),
                "mrr": mrr,
                "currency": currency,
            }
            self.subscription_lifecycle(account, region, offset)

    def subscription_lifecycle(self, account: Row, region: str, offset: str) -> None:
        rng = self.rng
        state = account["_subscription"]
        period_start: date = state["start"]
        mrr: float = state["mrr"]
        subscription_id = state["id"]
        while period_start <= self.end:
            months = rng.randint(2, 9)
            period_end = period_start + timedelta(days=30 * months + rng.randint(0, 20))
            roll = rng.random()
            if period_end > self.end:
                self.subscription_period(subscription_id, account, state, period_start, None, mrr, offset)
                return
            if roll < 0.22:  # churn
                self.subscription_period(subscription_id, account, state, period_start, period_end, mrr, offset)
                if rng.random() < 0.3:  # comes back later as a new subscription
                    period_start = period_end + timedelta(days=rng.randint(45, 200))
                    subscription_id = self.next_id("sub", 6)
                    mrr *= rng.uniform(0.7, 1.1)
                    continue
                return
            self.subscription_period(subscription_id, account, state, period_start, period_end, mrr, offset)
            mrr *= rng.uniform(1.1, 1.6) if roll < 0.6 else rng.uniform(0.6, 0.9)  # expansion or contraction
            period_start = period_end

    def subscription_period(
        self,
        subscription_id: str,
        account: Row,
        state: dict[str, Any],
        start: date,
        end: date | None,
        mrr: float,
        offset: str,
    ) -> None:
        rng = self.rng
        self.tables["subscriptions"].append(
            {
                "subscription_id": subscription_id,
                "account_id": account["account_id"],
                "product_id": state["product"],
                "period_start": _day(start),
                "period_end": _day(end) if end else None,
                "mrr": _money(mrr),
                "currency": state["currency"],
            }
        )
        issued = start
        last = min(end or self.end, self.end)
        while issued < last:
            status = rng.choices(["paid", "open", "void", "refused"], weights=[90, 4, 3, 3])[0]
            if (self.end - issued).days < 30 and status == "paid" and rng.random() < 0.5:
                status = "open"
            invoice_id = self.next_id("inv", 7)
            self.tables["invoices"].append(
                {
                    "invoice_id": invoice_id,
                    "account_id": account["account_id"],
                    "opportunity_id": None,
                    "subscription_id": subscription_id,
                    "issued_on": _day(issued),
                    "amount": _money(mrr),
                    "currency": state["currency"],
                    "status": status,
                }
            )
            if status == "paid" and rng.random() < 0.02:
                refunded = issued + timedelta(days=rng.randint(3, 25))
                if refunded <= self.end:
                    self.tables["refunds"].append(
                        {
                            "refund_id": self.next_id("ref", 6),
                            "invoice_id": invoice_id,
                            "refunded_on": _day(refunded),
                            "amount": _money(mrr * rng.choice([1.0, 0.5])),
                            "currency": state["currency"],
                            "reason": rng.choice(["billing error", "service outage", None]),
                        }
                    )
            if rng.random() < 0.33:
                survey_at = datetime.combine(issued, datetime.min.time()) + timedelta(
                    days=rng.randint(1, 20), hours=rng.randint(8, 20)
                )
                if survey_at <= self.end_moment:
                    kind = rng.choice(["nps", "csat"])
                    satisfied = rng.random() < 0.7
                    score = rng.randint(8, 10) if satisfied else rng.randint(0 if kind == "nps" else 1, 7)
                    self.tables["survey_responses"].append(
                        {
                            "response_id": self.next_id("rsp", 7),
                            "survey_type": kind,
                            "account_id": account["account_id"],
                            "product_id": state["product"],
                            "responded_at": self.clock.stamp(survey_at, offset),
                            "score": score,
                        }
                    )
            if rng.random() < 0.25:
                am = rng.choice(self.ams[account["_region"]])
                touch_at = datetime.combine(issued, datetime.min.time()) + timedelta(days=rng.randint(0, 27), hours=10)
                if touch_at <= self.end_moment:
                    self.activity(
                        rng.choice(["call", "email", "meeting"]),
                        am["user_id"],
                        touch_at,
                        offset,
                        account_id=account["account_id"],
                    )
            issued = (issued.replace(day=1) + timedelta(days=32)).replace(day=min(start.day, 28))

    def upsells(self) -> None:
        """Existing customers buy more: upsell and cross-sell deals some months after the first win."""
        for region in REGIONS:
            for account in list(self.accounts_by_region[region]):
                if account.get("_tier") and self.rng.random() < 0.35:
                    first = account["_subscription"]["start"] if account["_subscription"] else self.start
                    created = self.business_time(first + timedelta(days=self.rng.randint(60, 400)))
                    if created <= self.end_moment:
                        kind = self.rng.choice(["upsell", "cross_sell"])
                        self.opportunity(account, region, account["_offset"], created, kind, None, "referral")

    def employee_surveys(self) -> None:
        quarter = self.start.replace(day=1)
        while quarter <= self.end:
            if quarter.month in (1, 4, 7, 10):
                for user in self.tables["users"]:
                    if user.get("is_deleted") == "true" or self.rng.random() < 0.3:
                        continue
                    hired = date.fromisoformat(user["hired_on"])
                    left = date.fromisoformat(user["left_on"]) if user["left_on"] else self.end
                    day = quarter + timedelta(days=self.rng.randint(5, 20))
                    if hired <= day <= left and day <= self.end:
                        self.tables["employee_survey_responses"].append(
                            {
                                "response_id": self.next_id("ersp", 6),
                                "user_id": user["user_id"],
                                "responded_at": self.clock.stamp(self.business_time(day), user["_offset"]),
                                "score": self.rng.choices(range(11), weights=[1, 1, 1, 2, 2, 3, 5, 8, 10, 8, 6])[0],
                            }
                        )
            quarter = (quarter + timedelta(days=32)).replace(day=1)

    def defects(self) -> None:
        """The deliberately invalid rows (INJECTED_DEFECTS)."""
        day = self.business_time(self.start + timedelta(days=200))
        self.tables["leads"].append(
            {
                "lead_id": "lead_9999990", "created_at": self.clock.stamp(day, "+00:00"), "source_campaign_id": None,
                "channel": "tv", "owner_user_id": self.sdrs["na"][1]["user_id"], "region": "na", "country": "US",
                "company": "Broadcast Co.", "first_name": "Tina", "last_name": "Vee", "email": "tina@example.org",
                "phone": None, "status": "new", "converted_account_id": None, "converted_opportunity_id": None,
                "converted_at": None, "updated_at": self.clock.stamp(day, "+00:00"), "is_deleted": "false",
            }
        )  # fmt: skip
        account = next(a for a in self.tables["accounts"] if a.get("_tier"))
        self.tables["survey_responses"].append(
            {
                "response_id": "rsp_9999990", "survey_type": "nps", "account_id": account["account_id"],
                "product_id": None, "responded_at": self.clock.stamp(day, "+00:00"), "score": 11,
            }
        )  # fmt: skip
        self.tables["activities"].append(
            {
                "activity_id": "act_99999990", "activity_type": "call", "direction": "outbound",
                "user_id": self.sdrs["na"][1]["user_id"], "lead_id": None, "opportunity_id": None,
                "account_id": None, "occurred_at": "not a date", "outcome": None,
            }
        )  # fmt: skip

    def run(self) -> dict[str, list[Row]]:
        self.reference_tables()
        self.users_and_teams()
        self.quotas()
        self.campaigns()
        self.leads()
        self.upsells()
        self.employee_surveys()
        self.defects()
        return self.tables


def _format(value: Any) -> str:
    if value is None:
        return ""
    return str(value)


def _write_csv(path: Path, columns: list[str], rows: Iterable[Row]) -> int:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(columns)
    count = 0
    for row in rows:
        writer.writerow([_format(row.get(column)) for column in columns])
        count += 1
    path.write_text(buffer.getvalue(), encoding="utf-8")
    return count


def _write_parquet(path: Path, columns: list[str], rows: list[Row]) -> int:
    import pyarrow as pa
    import pyarrow.parquet as pq

    data = {column: [None if row.get(column) is None else str(row.get(column)) for row in rows] for column in columns}
    pq.write_table(pa.table(data, schema=pa.schema([(column, pa.string()) for column in columns])), path)
    return len(rows)


def generate(
    out_dir: Path,
    *,
    leads: int = 3000,
    start: date = date(2024, 11, 1),
    end: date = date(2026, 10, 31),
    fmt: str = "csv",
    seed: int = 42,
    progress: Callable[[str], None] | None = None,
) -> dict[str, int]:
    """Write every table of the raw contract to out_dir/<table>.<fmt>; return rows per table."""
    if fmt not in ("csv", "parquet"):
        raise ValueError(f"format must be csv or parquet, not {fmt!r}")
    tables = _Generator(leads, start, end, seed).run()
    out_dir.mkdir(parents=True, exist_ok=True)
    written: dict[str, int] = {}
    for table in TABLES:
        path = out_dir / f"{table.name}.{fmt}"
        rows = tables[table.name]
        if fmt == "csv":
            written[table.name] = _write_csv(path, table.column_names, rows)
        else:
            written[table.name] = _write_parquet(path, table.column_names, rows)
        if progress:
            progress(f"{table.name}: {written[table.name]} rows")
    return written
