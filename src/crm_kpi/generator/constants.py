"""Type aliases, time units, the default date range and the reference data of the generated world.

Regions and their currencies, countries (people's and company names in each country's script, phone
prefixes, mail domains, UTC offsets), industries, lost and refund reasons, competitors, stages, products,
channel profiles, the campaign plan, activity and touch mixes, INJECTED_DEFECTS and the width of each id.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import numpy.typing as npt
import pyarrow as pa

from crm_kpi.contract import CHANNELS

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
