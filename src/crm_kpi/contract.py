"""The raw CRM contract (../shared/RAW_CONTRACT.md) as data: the one definition of every raw table.

The generator writes these columns, the sources YAML and the seeds' column types are rendered from
them (a test keeps the committed YAML in sync), and the loaders create empty tables from them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# Logical types of raw columns. Raw files are read as text; staging casts them.
STRING = "string"
TIMESTAMP = "timestamp"
DATE = "date"
DECIMAL = "decimal"
INTEGER = "integer"
BOOLEAN = "boolean"


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    description: str
    nullable: bool = False
    accepted_values: tuple[str, ...] = ()
    # Matched case-insensitively and trimmed although the values come from a table, not a list.
    lowercase: bool = False
    # The value must be a key of this staged table (`stages`: a deal's stage is one of the pipeline's).
    lookup: str | None = None
    # Numbers: the closed range of valid values (None: unbounded on that side); a value outside it is
    # quarantined. Money is checked as exported (before conversion).
    minimum: float | None = None
    maximum: float | None = None
    # A range that depends on another column's value: (column, ((value, minimum, maximum), ...)).
    range_by: tuple[str, tuple[tuple[str, float, float], ...]] | None = None
    # Dates: the value, when present, must be later than this column's (an end after its start).
    after: str | None = None
    # Numbers: the value must be above `minimum`, not equal to it (an exchange rate of 0 is refused).
    exclusive_minimum: bool = False
    # A key of another raw table (its single-column primary key): see REFERENCES_RULE below.
    references: str | None = None
    # Personal data of a lead (a person outside the company): it stops at staging. Staging hashes the
    # email into the salted lead_person_key, and the quarantine report (schema audit, which BI may read)
    # masks the raw value of such a column.
    pii: bool = False

    @property
    def check_reason(self) -> str | None:
        """The quarantine reason of this column's value checks (lookup, range, order), None if it has none."""
        if self.lookup:
            return f"unknown {self.name} (not in {self.lookup})"
        if self.range_by:
            ranges = ", ".join(f"{value} {_n(low)}-{_n(high)}" for value, low, high in self.range_by[1])
            return f"{self.name} out of range ({ranges})"
        if self.minimum is not None and self.maximum is not None:
            return f"{self.name} out of range ({_n(self.minimum)}-{_n(self.maximum)})"
        if self.minimum == 0 and self.exclusive_minimum:
            return f"{self.name} must be above 0"
        if self.minimum == 0:
            return f"negative {self.name}"
        if self.minimum is not None:
            return f"{self.name} below {_n(self.minimum)}"
        if self.after:
            return f"{self.name} must be after {self.after}"
        return None

    @property
    def reference_reasons(self) -> tuple[str, str] | None:
        """The quarantine reasons of a required reference that leads to no staged record: the record is
        soft-deleted there; it is absent from the export or quarantined there."""
        if not self.references:
            return None
        return (
            f"{self.name} points to a soft-deleted {self.references} record",
            f"{self.name} not in {self.references} (absent from the export, or quarantined there)",
        )


# Every date and timestamp must fall in a plausible window, so that one typo (1900 for 2019, 2205 for
# 2025) cannot stretch the date spine and the as-of date: the dbt vars earliest_plausible_date and
# latest_plausible_date, whose defaults are these (dbt_project.yml; a test keeps them equal).
EARLIEST_PLAUSIBLE_DATE = "1990-01-01"
LATEST_PLAUSIBLE_DATE = "2099-12-31"
# Every decimal must be a finite number below this magnitude (NaN, Infinity and 1e20 are refused):
# money stays far inside decimal(18,2) after conversion and summing.
DECIMAL_MAGNITUDE_LIMIT = 1e12
DECIMAL_REASON = "not a finite number below 1e12 in magnitude"
# Integers are whole numbers (7.5 is refused, never rounded) below this magnitude.
INTEGER_MAGNITUDE_LIMIT = 1e15
# References (Column.references): a value that is not the key of a staged record of that table
# (absent from the export, quarantined or soft-deleted there), checked only when that table has
# staged records (an optional table absent from the export leaves nothing to check against):
# - a required column of an entity table (not an event table): the row is quarantined, with
#   reference_reasons (a deal of an unknown account, the spend of a deleted campaign);
# - a nullable column of an entity table: the reference is cleared (null) in staging (a deal whose
#   source lead was soft-deleted keeps its bookings);
# - a column of an event table (incremental: its old rows are not re-read): staged as exported; the
#   event facts keep only the events of their staged parents.
# Every such value is listed in audit.audit_crm__orphan_keys with what happened to it.


def _n(number: float) -> str:
    """A bound as written in a reason: 0, not 0.0."""
    return str(int(number)) if float(number).is_integer() else str(number)


@dataclass(frozen=True)
class Table:
    name: str
    grain: str
    required: bool
    columns: tuple[Column, ...]
    primary_key: tuple[str, ...] = ()
    freshness_column: str | None = None
    # Money columns converted to the reporting currency in staging (with the table's `currency`), at
    # the rate of `money_date`'s day (a date or timestamp column: the event the money belongs to).
    money: tuple[str, ...] = ()
    money_date: str | None = None
    # At least one of these columns must be present (a quota belongs to a rep or to a team).
    one_of: tuple[str, ...] = ()
    # Event tables (append-only exports that grow without bound): the column whose time places a row,
    # and the dbt var of the lookback window an incremental run re-reads (macros/incremental/).
    event_time: str | None = None
    lookback_var: str = "incremental_lookback_days"

    @property
    def column_names(self) -> list[str]:
        return [column.name for column in self.columns]


ROLES = ("sdr", "bdr", "ae", "am", "manager", "marketing")
CHANNELS = (
    "paid_search",
    "paid_social",
    "display",
    "email",
    "events",
    "content",
    "webinar",
    "referral",
    "partner",
    "outbound",
    "organic",
)
LEAD_STATUSES = ("new", "working", "mql", "sql", "converted", "disqualified", "recycled")
TOUCH_TYPES = ("impression", "click", "form", "attended", "replied")
OPPORTUNITY_TYPES = ("new_business", "upsell", "cross_sell", "renewal")
INVOICE_STATUSES = ("paid", "open", "void", "refused")
ACTIVITY_TYPES = ("call", "email", "meeting", "demo", "proposal")
DIRECTIONS = ("outbound", "inbound")
OUTCOMES = ("no_response", "positive", "neutral", "negative", "meeting_booked")
SURVEY_TYPES = ("nps", "csat")


def _c(name: str, type_: str, description: str, nullable: bool = False, **checks: Any) -> Column:
    return Column(name, type_, description, nullable, **checks)


UPDATED_AT = _c("updated_at", TIMESTAMP, "Last modification in the CRM; the latest row of a re-exported record wins.")
IS_DELETED = _c(
    "is_deleted",
    BOOLEAN,
    "Soft delete flag (`true` removes the record from every mart); empty means false.",
    nullable=True,
)


def _currency(what: str) -> Column:
    return _c("currency", STRING, f"ISO 4217 currency of {what}.")


TABLES: tuple[Table, ...] = (
    Table(
        "users",
        "one row per CRM user (rep, manager, marketer)",
        True,
        (
            _c("user_id", STRING, "CRM user id."),
            _c("full_name", STRING, "Display name (any script)."),
            _c("email", STRING, "Work email."),
            _c("role", STRING, "Role of the user.", accepted_values=ROLES),
            _c("manager_user_id", STRING, "The user's manager (a user_id).", nullable=True, references="users"),
            _c("region", STRING, "Sales region."),
            _c("country", STRING, "ISO 3166 alpha-2 country code."),
            _c("hired_on", DATE, "First day of employment."),
            _c("left_on", DATE, "Last day of employment; empty while employed.", nullable=True),
            UPDATED_AT,
            IS_DELETED,
        ),
        ("user_id",),
        "updated_at",
    ),
    Table(
        "teams",
        "one row per sales team",
        False,
        (
            _c("team_id", STRING, "Team id."),
            _c("team_name", STRING, "Team name."),
            _c("manager_user_id", STRING, "The team's manager (a user_id).", nullable=True, references="users"),
            _c("region", STRING, "Region the team sells in."),
            UPDATED_AT,
        ),
        ("team_id",),
        "updated_at",
    ),
    Table(
        "team_memberships",
        "one row per user and stint in a team",
        False,
        (
            _c("user_id", STRING, "Member (a user_id).", references="users"),
            _c("team_id", STRING, "Team (a team_id).", references="teams"),
            _c("started_on", DATE, "First day in the team."),
            _c("ended_on", DATE, "Last day in the team; empty while current.", nullable=True),
        ),
        ("user_id", "team_id", "started_on"),
    ),
    Table(
        "quotas",
        "one row per user (or team) and month",
        False,
        (
            _c("quota_id", STRING, "Quota id."),
            _c(
                "user_id",
                STRING,
                "Rep the quota belongs to; empty for a team quota.",
                nullable=True,
                references="users",
            ),
            _c(
                "team_id",
                STRING,
                "Team the quota belongs to; empty for a rep quota.",
                nullable=True,
                references="teams",
            ),
            _c("month_start", DATE, "First day of the quota month."),
            _c("amount", DECIMAL, "Bookings target for the month, in `currency`.", minimum=0),
            _currency("the quota"),
        ),
        ("quota_id",),
        money=("amount",),
        one_of=("user_id", "team_id"),
        money_date="month_start",
    ),
    Table(
        "campaigns",
        "one row per marketing campaign",
        False,
        (
            _c("campaign_id", STRING, "Campaign id."),
            _c("campaign_name", STRING, "Campaign name."),
            _c("channel", STRING, "Marketing channel.", accepted_values=CHANNELS),
            _c("region", STRING, "Target region.", nullable=True),
            _c("started_on", DATE, "First day of the campaign."),
            _c("ended_on", DATE, "Last day of the campaign; empty while running.", nullable=True),
            _c("budget", DECIMAL, "Planned budget in `currency`.", nullable=True, minimum=0),
            _currency("the budget"),
            UPDATED_AT,
            IS_DELETED,
        ),
        ("campaign_id",),
        "updated_at",
        money=("budget",),
        money_date="updated_at",
    ),
    Table(
        "campaign_spend",
        "one row per campaign and day",
        False,
        (
            _c("campaign_id", STRING, "Campaign (a campaign_id).", references="campaigns"),
            _c("spend_date", DATE, "Day of the spend."),
            _c("amount", DECIMAL, "Spend that day in `currency`.", minimum=0),
            _currency("the spend"),
        ),
        ("campaign_id", "spend_date"),
        money=("amount",),
        money_date="spend_date",
    ),
    Table(
        "leads",
        "one row per lead",
        True,
        (
            _c("lead_id", STRING, "Lead id."),
            _c("created_at", TIMESTAMP, "When the lead was created (ISO 8601, offset optional, UTC if none)."),
            _c(
                "source_campaign_id",
                STRING,
                "Campaign that sourced the lead (first touch).",
                nullable=True,
                references="campaigns",
            ),
            _c("channel", STRING, "Channel the lead came from.", accepted_values=CHANNELS),
            _c("owner_user_id", STRING, "Rep who owns the lead.", nullable=True, references="users"),
            _c("region", STRING, "Region of the lead."),
            _c("country", STRING, "ISO 3166 alpha-2 country code."),
            _c("company", STRING, "Company name (any script).", nullable=True),
            _c("first_name", STRING, "PII: first name; never past staging.", nullable=True, pii=True),
            _c("last_name", STRING, "PII: last name; never past staging.", nullable=True, pii=True),
            _c("email", STRING, "PII: email; never past staging.", nullable=True, pii=True),
            _c("phone", STRING, "PII: phone; never past staging.", nullable=True, pii=True),
            _c("status", STRING, "Current lifecycle status.", accepted_values=LEAD_STATUSES),
            _c(
                "converted_account_id", STRING, "Account the lead converted into.", nullable=True, references="accounts"
            ),
            _c(
                "converted_opportunity_id",
                STRING,
                "Opportunity the lead converted into.",
                nullable=True,
                references="opportunities",
            ),
            _c("converted_at", TIMESTAMP, "When the lead converted.", nullable=True),
            UPDATED_AT,
            IS_DELETED,
        ),
        ("lead_id",),
        "updated_at",
    ),
    Table(
        "lead_status_history",
        "one row per status change of a lead",
        False,
        (
            _c("lead_id", STRING, "Lead (a lead_id).", references="leads"),
            _c("status", STRING, "Status entered.", accepted_values=LEAD_STATUSES),
            _c("changed_at", TIMESTAMP, "When the status was entered."),
        ),
        ("lead_id", "status", "changed_at"),
        "changed_at",
        event_time="changed_at",
    ),
    Table(
        "campaign_touches",
        "one row per touch of a lead by a campaign",
        False,
        (
            _c("touch_id", STRING, "Touch id."),
            _c("campaign_id", STRING, "Campaign (a campaign_id).", references="campaigns"),
            _c("lead_id", STRING, "Lead (a lead_id).", references="leads"),
            _c("touched_at", TIMESTAMP, "When the touch happened."),
            _c("touch_type", STRING, "Kind of touch.", accepted_values=TOUCH_TYPES),
        ),
        ("touch_id",),
        "touched_at",
        event_time="touched_at",
    ),
    Table(
        "accounts",
        "one row per customer or prospect company",
        False,
        (
            _c("account_id", STRING, "Account id."),
            _c("account_name", STRING, "Company name (any script)."),
            _c("industry", STRING, "Industry.", nullable=True),
            _c("employees", INTEGER, "Head count.", nullable=True, minimum=0),
            _c("region", STRING, "Region."),
            _c("country", STRING, "ISO 3166 alpha-2 country code."),
            _c("owner_user_id", STRING, "Account owner (a user_id).", nullable=True, references="users"),
            _c("created_at", TIMESTAMP, "When the account was created."),
            UPDATED_AT,
            IS_DELETED,
        ),
        ("account_id",),
        "updated_at",
    ),
    Table(
        "opportunities",
        "one row per deal (its current state)",
        True,
        (
            _c("opportunity_id", STRING, "Opportunity id."),
            _c("account_id", STRING, "Account (an account_id).", references="accounts"),
            _c("owner_user_id", STRING, "Rep who owns the deal; credited with it at close.", references="users"),
            _c("source_lead_id", STRING, "Lead the deal came from.", nullable=True, references="leads"),
            _c("opportunity_type", STRING, "Kind of deal.", accepted_values=OPPORTUNITY_TYPES),
            _c("created_at", TIMESTAMP, "When the deal was created."),
            _c("close_date", DATE, "Expected (open) or actual (closed) close date."),
            _c("stage", STRING, "Current stage (a `stages.stage`).", lowercase=True, lookup="stages"),
            _c("amount", DECIMAL, "Deal value in `currency`.", minimum=0),
            _currency("the deal"),
            _c("lost_reason", STRING, "Why a lost deal was lost.", nullable=True),
            _c("competitor_id", STRING, "Competitor present on the deal.", nullable=True, references="competitors"),
            UPDATED_AT,
            IS_DELETED,
        ),
        ("opportunity_id",),
        "updated_at",
        money=("amount",),
        money_date="created_at",
    ),
    Table(
        "opportunity_stage_history",
        "one row per change of stage, amount or close date of a deal",
        False,
        (
            _c("opportunity_id", STRING, "Opportunity (an opportunity_id).", references="opportunities"),
            _c("stage", STRING, "Stage after the change (a `stages.stage`).", lowercase=True, lookup="stages"),
            _c("amount", DECIMAL, "Amount after the change, in the opportunity's currency.", minimum=0),
            _c("close_date", DATE, "Close date after the change."),
            _c("changed_at", TIMESTAMP, "When the change happened."),
        ),
        ("opportunity_id", "changed_at"),
        "changed_at",
        event_time="changed_at",
    ),
    Table(
        "stages",
        "one row per pipeline stage (configuration)",
        True,
        (
            _c("stage", STRING, "Stage name (matched case-insensitively).", lowercase=True),
            _c("sort_order", INTEGER, "Position in the pipeline.", minimum=0),
            _c("probability", DECIMAL, "Win probability of a deal in this stage (0-1).", minimum=0, maximum=1),
            _c("is_closed", BOOLEAN, "Whether the stage is closed."),
            _c("is_won", BOOLEAN, "Whether the stage is won."),
        ),
        ("stage",),
    ),
    Table(
        "products",
        "one row per product",
        False,
        (
            _c("product_id", STRING, "Product id."),
            _c("product_name", STRING, "Product name."),
            _c("family", STRING, "Product family."),
            _c("tier", INTEGER, "Tier within the family (1 = entry, higher = premium).", minimum=1),
            _c("list_price", DECIMAL, "List price per unit in `currency`.", minimum=0),
            _c("unit_cost", DECIMAL, "Cost of goods per unit in `currency`.", minimum=0),
            _currency("the prices"),
            UPDATED_AT,
        ),
        ("product_id",),
        "updated_at",
        money=("list_price", "unit_cost"),
        money_date="updated_at",
    ),
    Table(
        "opportunity_line_items",
        "one row per product on a deal",
        False,
        (
            _c("line_item_id", STRING, "Line item id."),
            _c("opportunity_id", STRING, "Opportunity (an opportunity_id).", references="opportunities"),
            _c("product_id", STRING, "Product (a product_id).", references="products"),
            _c("quantity", INTEGER, "Units.", minimum=0),
            _c("unit_price", DECIMAL, "Price per unit in the opportunity's currency.", minimum=0),
            _c("discount", DECIMAL, "Discount as a fraction of the price (0-1).", minimum=0, maximum=1),
        ),
        ("line_item_id",),
    ),
    Table(
        "subscriptions",
        "one row per period of a subscription at one price",
        False,
        (
            _c("subscription_id", STRING, "Subscription id (repeats across its periods)."),
            _c("account_id", STRING, "Account (an account_id).", references="accounts"),
            _c("product_id", STRING, "Product (a product_id).", references="products"),
            _c("period_start", DATE, "First day of the period."),
            _c(
                "period_end",
                DATE,
                "End of the period, exclusive; empty while active.",
                nullable=True,
                after="period_start",
            ),
            _c("mrr", DECIMAL, "Monthly recurring revenue of the period in `currency`.", minimum=0),
            _currency("the MRR"),
        ),
        ("subscription_id", "period_start"),
        money=("mrr",),
        money_date="period_start",
    ),
    Table(
        "invoices",
        "one row per invoice",
        False,
        (
            _c("invoice_id", STRING, "Invoice id."),
            _c("account_id", STRING, "Account (an account_id).", references="accounts"),
            _c("opportunity_id", STRING, "Deal invoiced.", nullable=True, references="opportunities"),
            _c("subscription_id", STRING, "Subscription invoiced.", nullable=True),
            _c("issued_on", DATE, "Issue date."),
            _c("amount", DECIMAL, "Invoice total in `currency`.", minimum=0),
            _currency("the invoice"),
            _c("status", STRING, "Invoice status.", accepted_values=INVOICE_STATUSES),
        ),
        ("invoice_id",),
        money=("amount",),
        money_date="issued_on",
        # An invoice's status changes weeks after its issue date: a longer window.
        event_time="issued_on",
        lookback_var="incremental_lookback_days_invoices",
    ),
    Table(
        "refunds",
        "one row per refund",
        False,
        (
            _c("refund_id", STRING, "Refund id."),
            _c("invoice_id", STRING, "Invoice refunded.", references="invoices"),
            _c("refunded_on", DATE, "Refund date."),
            _c("amount", DECIMAL, "Refunded amount in `currency`.", minimum=0),
            _currency("the refund"),
            _c("reason", STRING, "Reason given.", nullable=True),
        ),
        ("refund_id",),
        money=("amount",),
        money_date="refunded_on",
    ),
    Table(
        "activities",
        "one row per rep activity",
        False,
        (
            _c("activity_id", STRING, "Activity id."),
            _c("activity_type", STRING, "Kind of activity.", accepted_values=ACTIVITY_TYPES),
            _c("direction", STRING, "Outbound (by the rep) or inbound.", accepted_values=DIRECTIONS),
            _c("user_id", STRING, "Rep (a user_id).", references="users"),
            _c("lead_id", STRING, "Lead worked.", nullable=True, references="leads"),
            _c("opportunity_id", STRING, "Deal worked.", nullable=True, references="opportunities"),
            _c("account_id", STRING, "Account worked.", nullable=True, references="accounts"),
            _c("occurred_at", TIMESTAMP, "When the activity happened."),
            _c("outcome", STRING, "Outcome.", nullable=True, accepted_values=OUTCOMES),
        ),
        ("activity_id",),
        "occurred_at",
        event_time="occurred_at",
    ),
    Table(
        "survey_responses",
        "one row per customer answer",
        False,
        (
            _c("response_id", STRING, "Response id."),
            _c("survey_type", STRING, "Survey kind.", accepted_values=SURVEY_TYPES),
            _c("account_id", STRING, "Account answering.", references="accounts"),
            _c("product_id", STRING, "Product asked about.", nullable=True, references="products"),
            _c("responded_at", TIMESTAMP, "When the answer was given."),
            _c(
                "score",
                INTEGER,
                "Score: 0-10 for nps, 1-10 for csat; other values are quarantined.",
                range_by=("survey_type", (("nps", 0, 10), ("csat", 1, 10))),
            ),
        ),
        ("response_id",),
        "responded_at",
    ),
    Table(
        "employee_survey_responses",
        "one row per employee answer",
        False,
        (
            _c("response_id", STRING, "Response id."),
            _c("user_id", STRING, "Employee answering.", references="users"),
            _c("responded_at", TIMESTAMP, "When the answer was given."),
            _c("score", INTEGER, "eNPS score 0-10.", minimum=0, maximum=10),
        ),
        ("response_id",),
        "responded_at",
    ),
    Table(
        "competitors",
        "one row per competitor",
        False,
        (
            _c("competitor_id", STRING, "Competitor id."),
            _c("competitor_name", STRING, "Competitor name."),
        ),
        ("competitor_id",),
    ),
    Table(
        "competitor_prices",
        "one row per price observation",
        False,
        (
            _c("competitor_id", STRING, "Competitor (a competitor_id).", references="competitors"),
            _c("product_id", STRING, "Our comparable product.", references="products"),
            _c("observed_on", DATE, "Day of the observation."),
            _c("price", DECIMAL, "Observed price in `currency`.", minimum=0),
            _currency("the price"),
        ),
        ("competitor_id", "product_id", "observed_on"),
        money=("price",),
        money_date="observed_on",
    ),
    Table(
        "exchange_rates",
        "one row per currency and day",
        False,
        (
            _c("currency", STRING, "ISO 4217 currency converted from."),
            _c("rate_date", DATE, "Day the rate applies from."),
            _c(
                "rate_to_reporting",
                DECIMAL,
                "Units of the reporting currency per unit of `currency`.",
                minimum=0,
                exclusive_minimum=True,
            ),
        ),
        ("currency", "rate_date"),
    ),
)

TABLES_BY_NAME: dict[str, Table] = {table.name: table for table in TABLES}
REQUIRED_TABLES: tuple[str, ...] = tuple(table.name for table in TABLES if table.required)
