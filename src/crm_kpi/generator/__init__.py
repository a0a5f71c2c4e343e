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
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from crm_kpi.contract import (
    ACTIVITY_TYPES,
    CHANNELS,
    INVOICE_STATUSES,
    LEAD_STATUSES,
    OPPORTUNITY_TYPES,
    OUTCOMES,
    SURVEY_TYPES,
    TABLES,
    TABLES_BY_NAME,
    TOUCH_TYPES,
)

Arr = npt.NDArray[Any]
Columns = dict[str, pa.Array]

DAY = 86_400
HOUR = 3_600
CHUNK_LEADS = 100_000
DEFAULT_START = date(2024, 11, 1)
DEFAULT_END = date(2026, 10, 31)
EPOCH = date(1970, 1, 1)

# ---------------------------------------------------------------------------------------------------
# Reference data
# ---------------------------------------------------------------------------------------------------
REGIONS = ("americas", "emea", "uk", "apac")
REGION_WEIGHTS = (0.40, 0.30, 0.12, 0.18)
REGION_CURRENCY = ("USD", "EUR", "GBP", "INR")
CURRENCIES = ("USD", "EUR", "GBP", "INR")
NOMINAL_RATE = (1.0, 1.08, 1.27, 0.012)  # USD per unit, the start of the rate walk
REGION_DEAL_SIZE = (1.2, 1.0, 1.0, 0.6)
TEAM_NAMES = ("Americas Sales", "EMEA Sales", "UK & Ireland Sales", "APAC Sales")


@dataclass(frozen=True)
class Country:
    code: str
    region: int
    weight: float  # within its region
    offset_minutes: int
    phone_prefix: str
    family_first: bool  # full name written "last first"
    firsts: tuple[str, ...]
    lasts: tuple[str, ...]
    firsts_latin: tuple[str, ...]
    lasts_latin: tuple[str, ...]
    company_stems: tuple[str, ...]
    company_suffixes: tuple[str, ...]
    suffix_first: bool
    company_sep: str
    mail_domains: tuple[str, ...]


COUNTRIES: tuple[Country, ...] = (
    Country(
        "US", 0, 0.8, -300, "+1 212", False,
        ("James", "Mary", "Robert", "Linda", "Michael", "Sarah", "Jennifer", "David"),
        ("Smith", "Johnson", "O'Brien", "Garcia", "Miller", "Davis", "Nguyen", "Wilson"),
        ("James", "Mary", "Robert", "Linda", "Michael", "Sarah", "Jennifer", "David"),
        ("Smith", "Johnson", "OBrien", "Garcia", "Miller", "Davis", "Nguyen", "Wilson"),
        ("Acme", "Summit", "Blue Ridge", "Pioneer", "Northwind", "Redwood", '"Big Apple" Media', "Lakeside",
         "Ironclad", "Evergreen"),
        ("Inc.", "LLC", "Holdings, Inc.", "Corp.", "Group", "Partners"), False, " ",
        ("gmail.com", "outlook.com", "corp.example.com"),
    ),
    Country(
        "CA", 0, 0.2, -300, "+1 416", False,
        ("Liam", "Emma", "Noah", "Olivia", "Étienne", "Chloé"),
        ("Tremblay", "Roy", "Wilson", "Gagnon", "Côté", "Martin"),
        ("Liam", "Emma", "Noah", "Olivia", "Etienne", "Chloe"),
        ("Tremblay", "Roy", "Wilson", "Gagnon", "Cote", "Martin"),
        ("Maple Leaf", "Boréal", "Laurentian", "Cascade", "Northern Lights", "Saint-Laurent", "Fraser"),
        ("Ltd.", "Inc.", "Ltée", "Group", "Solutions", "Corp."), False, " ",
        ("gmail.com", "videotron.ca", "shaw.ca"),
    ),
    Country(
        "DE", 1, 0.40, 60, "+49 30", False,
        ("Jürgen", "Anneliese", "Björn", "Käthe", "Uwe", "Sophie", "Lukas", "Mia"),
        ("Müller", "Schröder", "Weiß", "Fischer", "Becker", "Hoffmann", "Schäfer", "Koch"),
        ("Juergen", "Anneliese", "Bjoern", "Kaethe", "Uwe", "Sophie", "Lukas", "Mia"),
        ("Mueller", "Schroeder", "Weiss", "Fischer", "Becker", "Hoffmann", "Schaefer", "Koch"),
        ("Müller", "Schmidt & Söhne", "Nordlicht", "Bergmann", "Rheinwerk", "Elbtal", "Großhandel Weber",
         "Alpenblick"),
        ("GmbH", "AG", "GmbH & Co. KG", "Logistik GmbH", "Technik AG", "Systeme GmbH"), False, " ",
        ("web.de", "gmx.de", "t-online.de"),
    ),
    Country(
        "FR", 1, 0.25, 60, "+33 1", False,
        ("Étienne", "Élodie", "François", "Zoé", "Camille", "Hugo"),
        ("Lefèvre", "Dubois", "Moreau", "Girard", "Rousseau", "Bernard"),
        ("Etienne", "Elodie", "Francois", "Zoe", "Camille", "Hugo"),
        ("Lefevre", "Dubois", "Moreau", "Girard", "Rousseau", "Bernard"),
        ("Lumière", "Atelier Rive", "Côte d'Azur", "Boulanger", "Étoile", "Maison Vert", "Provence"),
        ("SA", "SARL", "SAS", "Groupe", "& Fils", "Conseil"), False, " ",
        ("orange.fr", "free.fr", "laposte.net"),
    ),
    Country(
        "RU", 1, 0.20, 180, "+7 495", False,
        ("Дмитрий", "Ольга", "Сергей", "Наталья", "Алексей", "Екатерина"),
        ("Иванов", "Смирнова", "Кузнецов", "Попова", "Соколов", "Лебедева"),
        ("Dmitry", "Olga", "Sergey", "Natalya", "Alexey", "Ekaterina"),
        ("Ivanov", "Smirnova", "Kuznetsov", "Popova", "Sokolov", "Lebedeva"),
        ("«Север»", "«Технопром»", "«Байкал»", "«Сибирь»", "«Волга»", "«Уралмаш»", "«Ромашка»"),
        ("ООО", "АО", "ПАО", "ООО ТД", "ЗАО", "ИП"), True, " ",
        ("yandex.ru", "mail.ru", "rambler.ru"),
    ),
    Country(
        "IR", 1, 0.15, 210, "+98 21", False,
        ("علی", "مریم", "رضا", "زهرا", "حسین", "فاطمه"),
        ("محمدی", "حسینی", "رضایی", "کریمی", "احمدی", "موسوی"),
        ("Ali", "Maryam", "Reza", "Zahra", "Hossein", "Fatemeh"),
        ("Mohammadi", "Hosseini", "Rezaei", "Karimi", "Ahmadi", "Mousavi"),
        ("پارس", "آریا", "سپهر", "البرز", "کاوه", "نوین", "دماوند"),
        ("شرکت", "گروه صنعتی", "شرکت بازرگانی", "هلدینگ", "صنایع", "شرکت فناوری"), True, " ",
        ("chmail.ir", "gmail.com", "yahoo.com"),
    ),
    Country(
        "GB", 2, 1.0, 0, "+44 20", False,
        ("Oliver", "Amelia", "Harry", "Isla", "George", "Ava", "Siobhan", "Rhys"),
        ("Taylor", "Brown", "Davies", "Evans", "Wright", "Thompson", "O'Neill", "Patel"),
        ("Oliver", "Amelia", "Harry", "Isla", "George", "Ava", "Siobhan", "Rhys"),
        ("Taylor", "Brown", "Davies", "Evans", "Wright", "Thompson", "ONeill", "Patel"),
        ("Thames", "Albion", "Crown & Anchor", "Windsor", "Pennine", "Highland", 'The "Red Lion"', "Severn"),
        ("Ltd", "plc", "Holdings Ltd", "Group", "& Co", "Partners LLP"), False, " ",
        ("btinternet.com", "gmail.com", "sky.com"),
    ),
    Country(
        "IN", 3, 0.5, 330, "+91 22", False,
        ("Aarav", "Priya", "Rohan", "Ananya", "अर्जुन", "दीपिका"),
        ("Sharma", "Patel", "Iyer", "Gupta", "शर्मा", "वर्मा"),
        ("Aarav", "Priya", "Rohan", "Ananya", "Arjun", "Deepika"),
        ("Sharma", "Patel", "Iyer", "Gupta", "Sharma", "Verma"),
        ("Infosphere", "Ganga", "Sahyadri", "इंद्र", "Lotus", "Bharat", "Kaveri"),
        ("Pvt Ltd", "Ltd", "Industries", "Technologies", "Solutions", "Exports, Pvt Ltd"), False, " ",
        ("gmail.com", "rediffmail.com", "yahoo.co.in"),
    ),
    Country(
        "VN", 3, 0.3, 420, "+84 28", True,
        ("Văn Minh", "Thị Hương", "Hoàng Anh", "Quốc Bảo", "Thu Trang", "Đức Thắng"),
        ("Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Võ"),
        ("VanMinh", "ThiHuong", "HoangAnh", "QuocBao", "ThuTrang", "DucThang"),
        ("Nguyen", "Tran", "Le", "Pham", "Hoang", "Vo"),
        ("Việt Tiến", "Sông Hồng", "Bình Minh", "Hòa Phát", "Sài Gòn", "Phương Đông"),
        ("Công ty TNHH", "Công ty Cổ phần", "Tập đoàn", "Công ty TNHH MTV", "Doanh nghiệp", "Công ty"), True, " ",
        ("gmail.com", "vnn.vn", "fpt.vn"),
    ),
    Country(
        "CN", 3, 0.2, 480, "+86 21", True,
        ("伟", "芳", "娜", "强", "静", "磊"),
        ("王", "李", "张", "刘", "陈", "杨"),
        ("Wei", "Fang", "Na", "Qiang", "Jing", "Lei"),
        ("Wang", "Li", "Zhang", "Liu", "Chen", "Yang"),
        ("长城", "东方", "天和", "金龙", "新星", "华夏"),
        ("科技有限公司", "集团", "贸易有限公司", "实业有限公司", "股份有限公司", "网络科技"), False, "",
        ("qq.com", "163.com", "126.com"),
    ),
)  # fmt: skip

INDUSTRIES = (
    "software",
    "manufacturing",
    "retail",
    "finance",
    "healthcare",
    "logistics",
    "education",
    "energy",
    "media",
    "telecom",
)
LOST_REASONS = ("price", "competitor", "no_budget", "no_decision", "timing", "product_fit")
LOST_REASON_WEIGHTS = (0.20, 0.30, 0.15, 0.20, 0.10, 0.05)
REFUND_REASONS = ("billing_error", "service_issue", "cancellation", "duplicate_charge")
COMPETITORS = ("Northstar CRM", "Pipewise", "Closely", "Dealbook", "Funnelry", "Kanri 管理")
COMPETITOR_WEIGHTS = (0.30, 0.25, 0.15, 0.12, 0.10, 0.08)
COMPETITOR_PRICE_FACTOR = (1.10, 0.85, 0.95, 1.25, 0.80, 0.70)

STAGES = (
    ("prospecting", 1, "0.10", "false", "false"),
    ("qualification", 2, "0.25", "false", "false"),
    ("proposal", 3, "0.50", "false", "false"),
    ("negotiation", 4, "0.75", "false", "false"),
    ("closed_won", 5, "1.00", "true", "true"),
    ("closed_lost", 6, "0.00", "true", "false"),
)
STAGE_NAMES = tuple(stage[0] for stage in STAGES)
WON, LOST = 4, 5  # indexes into STAGE_NAMES

FAMILIES = ("crm_core", "marketing_hub", "analytics", "service_desk")
# (name, family index, tier, list price USD per seat and year, unit cost USD)
PRODUCTS = (
    ("CRM Core Starter", 0, 1, 360, 60),
    ("CRM Core Professional", 0, 2, 720, 110),
    ("CRM Core Enterprise", 0, 3, 1440, 200),
    ("Marketing Hub Basic", 1, 1, 240, 50),
    ("Marketing Hub Pro", 1, 2, 600, 120),
    ("Marketing Hub Enterprise", 1, 3, 1200, 230),
    ("Analytics Insights", 2, 1, 300, 70),
    ("Analytics Advanced", 2, 2, 900, 180),
    ("Service Desk Standard", 3, 1, 180, 45),
    ("Service Desk Premium", 3, 2, 480, 100),
    ("Service Desk Ultimate", 3, 3, 960, 170),
)


@dataclass(frozen=True)
class ChannelProfile:
    cost_per_lead_usd: float
    p_mql: float
    p_sql: float  # given mql
    p_convert: float  # given sql
    win: float  # multiplier of the base win rate
    deal: float  # multiplier of the deal size


CHANNEL_PROFILES: dict[str, ChannelProfile] = {
    "paid_search": ChannelProfile(160.0, 0.45, 0.42, 0.68, 1.00, 1.00),
    "paid_social": ChannelProfile(95.0, 0.30, 0.36, 0.60, 0.85, 0.85),
    "display": ChannelProfile(35.0, 0.15, 0.25, 0.55, 0.70, 0.70),
    "email": ChannelProfile(20.0, 0.35, 0.36, 0.60, 0.90, 0.90),
    "events": ChannelProfile(420.0, 0.55, 0.48, 0.72, 1.10, 1.40),
    "content": ChannelProfile(70.0, 0.40, 0.36, 0.62, 0.95, 0.90),
    "webinar": ChannelProfile(110.0, 0.55, 0.42, 0.66, 1.05, 1.10),
    "referral": ChannelProfile(40.0, 0.72, 0.60, 0.80, 1.50, 1.20),
    "partner": ChannelProfile(140.0, 0.62, 0.52, 0.75, 1.25, 1.30),
    "outbound": ChannelProfile(60.0, 0.25, 0.40, 0.62, 0.90, 1.20),
    "organic": ChannelProfile(0.0, 0.45, 0.42, 0.66, 1.10, 1.00),
}
CH = {name: index for index, name in enumerate(CHANNELS)}


@dataclass(frozen=True)
class CampaignPlan:
    name: str
    channel: str
    region: int  # -1: global
    start_frac: float  # position in the range (negative: started before)
    end_frac: float | None  # None: still running at the end
    weight: float  # relative lead volume while running (0: none)
    deleted: bool = False


CAMPAIGN_PLANS: tuple[CampaignPlan, ...] = (
    CampaignPlan("Organic search & direct", "organic", -1, -0.5, None, 6.0),
    CampaignPlan("Google Ads – Brand Americas", "paid_search", 0, -0.2, None, 8.0),
    CampaignPlan("Google Ads – Generic EMEA", "paid_search", 1, 0.05, 0.9, 6.0),
    CampaignPlan("Bing Ads UK", "paid_search", 2, 0.3, 0.8, 4.0),
    CampaignPlan("LinkedIn Lead Gen Americas", "paid_social", 0, 0.0, 0.6, 5.0),
    CampaignPlan("LinkedIn Lead Gen APAC", "paid_social", 3, 0.4, None, 5.0),
    CampaignPlan("Meta Retargeting", "paid_social", -1, 0.2, 0.7, 2.5),
    CampaignPlan("Display Network Awareness", "display", -1, 0.0, 0.95, 4.0),
    CampaignPlan("Programmatic Display DACH", "display", 1, 0.5, None, 3.0),
    CampaignPlan("Newsletter Nurture", "email", -1, -0.3, None, 3.5),
    CampaignPlan('Spring "Launch" Offer, EMEA', "email", 1, 0.38, 0.45, 6.0),
    CampaignPlan("SaaStr Annual Booth", "events", 0, 0.38, 0.395, 80.0),
    CampaignPlan("Web Summit Lisbon", "events", 1, 0.5, 0.515, 80.0),
    CampaignPlan("CRM Expo London", "events", 2, 0.7, 0.715, 80.0),
    CampaignPlan("Tech Asia Singapore", "events", 3, 0.85, 0.865, 80.0),
    CampaignPlan("Dreamforce Side Event", "events", -1, 0.2, 0.21, 40.0),
    CampaignPlan("Ebook: The Sales Playbook", "content", -1, 0.0, 0.5, 3.0),
    CampaignPlan("Blog & SEO content hub", "content", -1, 0.3, None, 3.0),
    CampaignPlan("Webinar: Pipeline Hygiene", "webinar", -1, 0.15, 0.18, 14.0),
    CampaignPlan("Webinar series: RevOps", "webinar", 1, 0.55, 0.75, 4.0),
    CampaignPlan("Вебинар: CRM для B2B", "webinar", 1, 0.3, 0.32, 12.0),
    CampaignPlan("Hội thảo trực tuyến: AI trong bán hàng", "webinar", 3, 0.65, 0.67, 14.0),
    CampaignPlan("Customer Referral Program", "referral", -1, -0.4, None, 3.0),
    CampaignPlan("Partner Program – Resellers", "partner", -1, 0.1, None, 2.5),
    CampaignPlan("Partner co-marketing APAC", "partner", 3, 0.6, 0.9, 3.0),
    CampaignPlan("Outbound sequences", "outbound", -1, 0.0, None, 4.0),
    CampaignPlan("ABM Enterprise Americas", "outbound", 0, 0.45, 0.8, 4.0),
    CampaignPlan("Q4 Promo Email Blast", "email", -1, 0.46, 0.56, 6.0),
    CampaignPlan("کمپین تبلیغاتی نوروز", "paid_social", 1, 0.37, 0.42, 5.0),
    CampaignPlan("Test campaign – do not use", "display", -1, 0.2, 0.25, 0.0, deleted=True),
    CampaignPlan("LinkedIn Lead Gen Americas (duplicate)", "paid_social", 0, 0.1, 0.3, 0.0, deleted=True),
)
CHF_DEFECT_CAMPAIGN = 3  # 1-based: cmp_003, on its first spend day


def _campaign_start(start: date, end: date, plan: CampaignPlan) -> date:
    n_days = (end - start).days + 1
    return start + timedelta(days=round(plan.start_frac * n_days))


# Activity mixes: (call, email, meeting, demo, proposal) and outcome mixes over OUTCOMES.
LEAD_ACTIVITY_MIX = (0.50, 0.45, 0.05, 0.0, 0.0)
OPP_ACTIVITY_MIX = (0.22, 0.33, 0.22, 0.13, 0.10)
ACCOUNT_ACTIVITY_MIX = (0.35, 0.40, 0.25, 0.0, 0.0)
FOLLOW_UP_OUTCOMES = (0.55, 0.04, 0.26, 0.10, 0.0)
DEAL_OUTCOMES = (0.20, 0.30, 0.35, 0.10, 0.05)
# touch types (impression, click, form, attended, replied) by channel, for later touches
TOUCH_MIX: dict[str, tuple[float, float, float, float, float]] = {
    "paid_search": (0.2, 0.7, 0.1, 0.0, 0.0),
    "paid_social": (0.6, 0.35, 0.05, 0.0, 0.0),
    "display": (0.8, 0.2, 0.0, 0.0, 0.0),
    "email": (0.3, 0.5, 0.05, 0.0, 0.15),
    "events": (0.0, 0.0, 0.2, 0.8, 0.0),
    "content": (0.1, 0.6, 0.3, 0.0, 0.0),
    "webinar": (0.0, 0.2, 0.3, 0.5, 0.0),
    "referral": (0.0, 0.5, 0.5, 0.0, 0.0),
    "partner": (0.1, 0.4, 0.4, 0.1, 0.0),
    "outbound": (0.0, 0.6, 0.0, 0.0, 0.4),
    "organic": (0.2, 0.7, 0.1, 0.0, 0.0),
}

INJECTED_DEFECTS: tuple[dict[str, str], ...] = (
    {
        "table": "leads",
        "id": "lead_00000042",
        "column": "channel",
        "value": "tv",
        "reason": "unknown channel; the lead is a leaf (no source campaign, touches, activities or opportunity; "
        "only its `new` row in lead_status_history)",
    },
    {
        "table": "survey_responses",
        "id": "rsp_00000001",
        "column": "score",
        "value": "11",
        "reason": "nps score out of range 0-10",
    },
    {
        "table": "campaign_spend",
        "id": f"cmp_{CHF_DEFECT_CAMPAIGN:03d}|"
        f"{_campaign_start(DEFAULT_START, DEFAULT_END, CAMPAIGN_PLANS[CHF_DEFECT_CAMPAIGN - 1]).isoformat()}",
        "column": "currency",
        "value": "CHF",
        "reason": "no exchange rate for CHF (key campaign_id|spend_date: the campaign's first spend day; "
        "the date shown is the one of the default range)",
    },
    {
        "table": "activities",
        "id": "act_000000001",
        "column": "occurred_at",
        "value": "not a date",
        "reason": "unparseable timestamp",
    },
)
DEFECT_LEAD_INDEX = 41  # 0-based index of lead_00000042 in chunk 0

ID_WIDTH = {
    "lead": 8,
    "acc": 7,
    "opp": 8,
    "li": 9,
    "sub": 8,
    "inv": 9,
    "ref": 8,
    "act": 9,
    "tch": 9,
    "rsp": 8,
    "ersp": 6,
    "quota": 6,
}


# ---------------------------------------------------------------------------------------------------
# Small helpers
# ---------------------------------------------------------------------------------------------------
def _rng(*keys: int) -> np.random.Generator:
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence([abs(k) for k in keys])))


def _epoch_day(value: date) -> int:
    return (value - EPOCH).days


def _lognormal(rng: np.random.Generator, median: Arr | float, sigma: float, size: int) -> Arr:
    return np.asarray(median * np.exp(sigma * rng.standard_normal(size)), dtype=np.float64)


def _choice(rng: np.random.Generator, weights: Sequence[float], size: int) -> Arr:
    cumulative = np.cumsum(np.asarray(weights, dtype=np.float64))
    picked = np.searchsorted(cumulative / cumulative[-1], rng.random(size), side="right")
    return np.minimum(picked, len(cumulative) - 1).astype(np.int64)


def _segment_starts(group: Arr) -> Arr:
    """Boolean mask of the first row of each run of equal values in a sorted array."""
    starts = np.ones(len(group), dtype=bool)
    starts[1:] = group[1:] != group[:-1]
    return starts


def _rank_within(group: Arr) -> Arr:
    """0-based position of each row within its run of equal (sorted) group values."""
    index = np.arange(len(group))
    first = np.maximum.accumulate(np.where(_segment_starts(group), index, 0))
    return index - first


def _month_start_days(first_day: int, last_day: int) -> Arr:
    """Epoch days of every first-of-month in [first_day, last_day]."""
    months = np.arange(
        np.datetime64(first_day, "D").astype("datetime64[M]"),
        np.datetime64(last_day, "D").astype("datetime64[M]") + 1,
    )
    days = months.astype("datetime64[D]").astype(np.int64)
    return days[(days >= first_day) & (days <= last_day)]


def _month_of(days: Arr) -> Arr:
    """Calendar month (1-12) of epoch days."""
    return (np.asarray(days).astype("datetime64[D]").astype("datetime64[M]").astype(np.int64) % 12) + 1


# ---------------------------------------------------------------------------------------------------
# Rendering (pyarrow string arrays, identical for CSV and Parquet)
# ---------------------------------------------------------------------------------------------------
OFFSET_TEXT = pa.array(
    [
        f"{'-' if c.offset_minutes < 0 else '+'}{abs(c.offset_minutes) // 60:02d}:{abs(c.offset_minutes) % 60:02d}"
        for c in COUNTRIES
    ]
)
OFFSET_SECONDS = np.array([c.offset_minutes * 60 for c in COUNTRIES], dtype=np.int64)
NULL_STRING = pa.scalar(None, pa.string())


def _nullify(values: pa.Array, null: Arr | None) -> pa.Array:
    if null is None or not np.any(null):
        return values
    return pc.if_else(pa.array(np.asarray(null, dtype=bool)), NULL_STRING, values)


def _text(values: Arr | Sequence[Any], null: Arr | None = None) -> pa.Array:
    array = np.asarray(values)
    if array.dtype.kind in "iu":
        rendered = pa.array(array.astype(np.int64)).cast(pa.string())
    else:
        rendered = pa.array(list(values), pa.string())
    return _nullify(rendered, null)


def _ids(prefix: str, numbers: Arr, null: Arr | None = None) -> pa.Array:
    digits = pc.utf8_lpad(pa.array(np.asarray(numbers, dtype=np.int64)).cast(pa.string()), ID_WIDTH[prefix], "0")
    return _nullify(pc.binary_join_element_wise(prefix + "_", digits, ""), null)


def _take(pool: Sequence[str], index: Arr, null: Arr | None = None) -> pa.Array:
    return _nullify(pa.array(list(pool), pa.string()).take(pa.array(np.asarray(index, dtype=np.int64))), null)


def _dates(epoch_days: Arr, null: Arr | None = None) -> pa.Array:
    days = pa.array(np.asarray(epoch_days, dtype=np.int64).astype(np.int32), pa.date32())
    return _nullify(days.cast(pa.string()), null)


def _clock(seconds: Arr) -> tuple[pa.Array, pa.Array]:
    seconds = np.asarray(seconds, dtype=np.int64)
    day = pa.array((seconds // DAY).astype(np.int32), pa.date32()).cast(pa.string())
    time = pa.array((seconds % DAY).astype(np.int32), pa.time32("s")).cast(pa.string())
    return day, time


def _timestamps(
    rng: np.random.Generator,
    utc_seconds: Arr,
    country: Arr,
    null: Arr | None = None,
    force_local: Arr | None = None,
) -> pa.Array:
    """ISO 8601 in the mixed forms of CRM exports: local time with the country's offset (`T`), UTC with
    `Z`, or UTC without an offset (space separated)."""
    utc_seconds = np.asarray(utc_seconds, dtype=np.int64)
    country = np.asarray(country, dtype=np.int64)
    style = _choice(rng, (0.5, 0.25, 0.25), len(utc_seconds))
    if force_local is not None:
        style[force_local] = 0
    local_day, local_time = _clock(utc_seconds + OFFSET_SECONDS[country])
    utc_day, utc_time = _clock(utc_seconds)
    local = pc.binary_join_element_wise(local_day, "T", local_time, OFFSET_TEXT.take(pa.array(country)), "")
    zulu = pc.binary_join_element_wise(utc_day, " ", utc_time, "Z", "")
    naive = pc.binary_join_element_wise(utc_day, " ", utc_time, "")
    rendered = pc.if_else(pa.array(style == 0), local, pc.if_else(pa.array(style == 1), zulu, naive))
    return _nullify(rendered, null)


def _decimal(scaled: Arr, places: int, null: Arr | None = None) -> pa.Array:
    """Fixed-point text of non-negative integers scaled by 10**places (cents -> '12.30')."""
    scaled = np.asarray(scaled, dtype=np.int64)
    if np.any(scaled < 0):
        raise ValueError("negative amount")
    unit = 10**places
    whole = pa.array(scaled // unit).cast(pa.string())
    fraction = pc.utf8_lpad(pa.array(scaled % unit).cast(pa.string()), places, "0")
    return _nullify(pc.binary_join_element_wise(whole, fraction, "."), null)


def _money(cents: Arr, null: Arr | None = None) -> pa.Array:
    return _decimal(cents, 2, null)


def _booleans(values: Arr) -> pa.Array:
    return _take(("false", "true"), np.asarray(values, dtype=np.int64))


def _is_deleted(rng: np.random.Generator, deleted: Arr) -> pa.Array:
    """`true` for soft-deleted rows; others `false` or empty."""
    deleted = np.asarray(deleted, dtype=bool)
    empty = (rng.random(len(deleted)) < 0.35) & ~deleted
    return _take(("false", "true"), deleted.astype(np.int64), empty)


def _enum(rng: np.random.Generator, codes: Arr, names: Sequence[str], rate: float = 0.02) -> pa.Array:
    """Enum values as exports write them: mostly canonical, sometimes upper/title case or padded."""
    values = _take(names, codes)
    variant = rng.random(len(codes))
    kind = rng.integers(0, 4, len(codes))
    if not np.any(variant < rate):
        return values
    variants = (
        pc.utf8_upper(values),
        pc.binary_join_element_wise(pc.utf8_title(values), " ", ""),
        pc.binary_join_element_wise(" ", values, ""),
        pc.binary_join_element_wise(" ", pc.utf8_upper(values), " ", ""),
    )
    for index, changed in enumerate(variants):
        values = pc.if_else(pa.array((variant < rate) & (kind == index)), changed, values)
    return values


# ---------------------------------------------------------------------------------------------------
# Writers
# ---------------------------------------------------------------------------------------------------
def _csv_field(values: pa.Array) -> pa.Array:
    """RFC 4180: quote only values holding a comma, quote or line break (doubling inner quotes)."""
    needs = pc.match_substring_regex(values, '[",\r\n]')
    if not pc.any(needs).as_py():
        return values
    quoted = pc.binary_join_element_wise('"', pc.replace_substring(values, '"', '""'), '"', "")
    return pc.if_else(needs, quoted, values)


class TableWriter:
    """Streams chunks of one table to `<table>.csv` or `<table>.parquet` (every column as text)."""

    def __init__(self, out_dir: Path, table: str, fmt: str) -> None:
        self.columns = TABLES_BY_NAME[table].column_names
        self.rows = 0
        self.fmt = fmt
        self.path = out_dir / f"{table}.{fmt}"
        self._parquet: pq.ParquetWriter | None = None
        if fmt == "parquet":
            schema = pa.schema([(name, pa.string()) for name in self.columns])
            self._parquet = pq.ParquetWriter(self.path, schema, compression="zstd")
        else:
            self._csv = self.path.open("wb")
            self._csv.write((",".join(self.columns) + "\n").encode())

    def write(self, data: Columns) -> None:
        if set(data) != set(self.columns):
            raise ValueError(f"{self.path.name}: columns {sorted(data)} differ from the contract")
        arrays = [data[name] for name in self.columns]
        length = len(arrays[0])
        if any(len(array) != length for array in arrays):
            raise ValueError(f"{self.path.name}: columns of different lengths")
        if length == 0:
            return
        self.rows += length
        if self._parquet is not None:
            self._parquet.write_table(pa.table(arrays, names=self.columns))
            return
        fields = [_csv_field(array) for array in arrays]
        joined = pc.binary_join_element_wise(*fields, ",", null_handling="replace", null_replacement="")
        lines = pc.binary_join_element_wise(joined, "", "\n").cast(pa.large_string())
        offsets = np.frombuffer(lines.buffers()[1], dtype=np.int64)[lines.offset : lines.offset + length + 1]
        self._csv.write(memoryview(lines.buffers()[2])[offsets[0] : offsets[-1]])

    def close(self) -> int:
        if self._parquet is not None:
            self._parquet.close()
        else:
            self._csv.close()
        return self.rows


# ---------------------------------------------------------------------------------------------------
# World: users, teams, campaigns, products (small, plain Python)
# ---------------------------------------------------------------------------------------------------
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


# ---------------------------------------------------------------------------------------------------
# Leads
# ---------------------------------------------------------------------------------------------------
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


# ---------------------------------------------------------------------------------------------------
# Subscriptions and the deals of existing customers
# ---------------------------------------------------------------------------------------------------
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


# ---------------------------------------------------------------------------------------------------
# Activities, touches, invoices, surveys
# ---------------------------------------------------------------------------------------------------
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


# ---------------------------------------------------------------------------------------------------
# One chunk of leads and everything that hangs off it
# ---------------------------------------------------------------------------------------------------
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


@dataclass
class Totals:
    campaign_leads: Arr
    bookings_usd: Arr  # (region, 0 = AE new business / 1 = AM customer deals)


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


# ---------------------------------------------------------------------------------------------------
# Small tables
# ---------------------------------------------------------------------------------------------------
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


# ---------------------------------------------------------------------------------------------------
# Entry point
# ---------------------------------------------------------------------------------------------------
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
