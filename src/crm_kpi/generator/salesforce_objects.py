"""The Salesforce objects the export writer writes: each object's contract table and, per API field,
how its value comes from a contract row (see salesforce_export.py)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

Row = dict[str, str]
Native = dict[str, list[Row]]
Ids = Callable[[str], str]
Value = Callable[[Row, Ids, Native], str]

# The standard price book (digits and lower case only: its checksum is AAA).
STANDARD_PRICEBOOK_ID = "01s5g0000000001AAA"


def text(column: str) -> Value:
    return lambda row, ids, native: row[column]


def ref(column: str) -> Value:
    return lambda row, ids, native: ids(row[column])


def const(value: str) -> Value:
    return lambda row, ids, native: value


def label(value: str) -> str:
    """A clean contract enum as a picklist label (`closed_won` -> `Closed Won`); anything else as is."""
    return value.replace("_", " ").title() if re.fullmatch(r"[a-z_]+", value) else value


def picklist(column: str) -> Value:
    return lambda row, ids, native: label(row[column])


def scaled(column: str, factor: int) -> Value:
    """A fraction written as a percent (Salesforce's Discount, DefaultProbability); non-numbers as is."""

    def value(row: Row, ids: Ids, native: Native) -> str:
        try:
            return format((Decimal(row[column]) * factor).normalize(), "f") if row[column].strip() else row[column]
        except InvalidOperation:
            return row[column]

    return value


def inverse_rate(row: Row, ids: Ids, native: Native) -> str:
    """DatedConversionRate.ConversionRate (a double): units of the currency per unit of the corporate
    currency, the inverse of the contract's rate; text that is no rate stays as it is."""
    try:
        return repr(1 / float(row["rate_to_reporting"]))
    except (ValueError, ZeroDivisionError):
        return row["rate_to_reporting"]


def current_role(row: Row, ids: Ids, native: Native) -> str:
    """User.UserRoleId: the user's open team membership (Salesforce keeps no role history)."""
    stints = [stint for stint in native.get("team_memberships", []) if stint["user_id"] == row["user_id"]]
    open_stints = [stint for stint in stints if not stint["ended_on"]] or stints
    return ids(open_stints[-1]["team_id"]) if open_stints else ""


def what_id(row: Row, ids: Ids, native: Native) -> str:
    return ids(row["opportunity_id"] or row["account_id"])


def is_event(row: Row) -> bool:
    return row["activity_type"].strip().lower() in ("meeting", "demo")


def first_touch_of_pair(native: Native) -> Callable[[Row], bool]:
    """CampaignMember is one record per campaign and lead: the pair's first touch in the file."""
    first: dict[tuple[str, str], str] = {}
    for touch in native.get("campaign_touches", []):
        first.setdefault((touch["campaign_id"], touch["lead_id"]), touch["touch_id"])
    return lambda row: first[(row["campaign_id"], row["lead_id"])] == row["touch_id"]


@dataclass(frozen=True)
class SalesforceObject:
    name: str
    table: str
    fields: dict[str, Value]
    keep: Callable[[Native], Callable[[Row], bool]] | None = None


AUDIT = {"LastModifiedDate": text("updated_at"), "IsDeleted": text("is_deleted")}

OBJECTS: tuple[SalesforceObject, ...] = (
    SalesforceObject(
        "UserRole",
        "teams",
        {
            "Id": ref("team_id"),
            "Name": text("team_name"),
            "ForecastUserId": ref("manager_user_id"),
            "Region__c": text("region"),
            "LastModifiedDate": text("updated_at"),
        },
    ),
    SalesforceObject(
        "User",
        "users",
        {
            "Id": ref("user_id"),
            "Name": text("full_name"),
            "Email": text("email"),
            "Sales_Role__c": text("role"),
            "ManagerId": ref("manager_user_id"),
            "UserRoleId": current_role,
            "Region__c": text("region"),
            "Country": text("country"),
            "Hire_Date__c": text("hired_on"),
            "Termination_Date__c": text("left_on"),
            **AUDIT,
        },
    ),
    SalesforceObject(
        "Campaign",
        "campaigns",
        {
            "Id": ref("campaign_id"),
            "Name": text("campaign_name"),
            "Type": picklist("channel"),
            "Region__c": text("region"),
            "StartDate": text("started_on"),
            "EndDate": text("ended_on"),
            "BudgetedCost": text("budget"),
            "CurrencyIsoCode": text("currency"),
            **AUDIT,
        },
    ),
    SalesforceObject(
        "Lead",
        "leads",
        {
            "Id": ref("lead_id"),
            "CreatedDate": text("created_at"),
            "Source_Campaign__c": ref("source_campaign_id"),
            "LeadSource": picklist("channel"),
            "OwnerId": ref("owner_user_id"),
            "Region__c": text("region"),
            "CountryCode": text("country"),
            "Company": text("company"),
            "FirstName": text("first_name"),
            "LastName": text("last_name"),
            "Email": text("email"),
            "Phone": text("phone"),
            "Status": picklist("status"),
            "IsConverted": lambda row, ids, native: "true" if row["converted_opportunity_id"] else "false",
            "ConvertedAccountId": ref("converted_account_id"),
            "ConvertedOpportunityId": ref("converted_opportunity_id"),
            "ConvertedDate": lambda row, ids, native: row["converted_at"][:10],
            **AUDIT,
        },
    ),
    SalesforceObject(
        "LeadHistory",
        "lead_status_history",
        {
            "LeadId": ref("lead_id"),
            "Field": const("Status"),
            "NewValue": picklist("status"),
            "CreatedDate": text("changed_at"),
        },
    ),
    SalesforceObject(
        "CampaignMember",
        "campaign_touches",
        {
            "Id": ref("touch_id"),
            "CampaignId": ref("campaign_id"),
            "LeadId": ref("lead_id"),
            "Status": picklist("touch_type"),
            "CreatedDate": text("touched_at"),
        },
        keep=first_touch_of_pair,
    ),
    SalesforceObject(
        "Account",
        "accounts",
        {
            "Id": ref("account_id"),
            "Name": text("account_name"),
            "Industry": text("industry"),
            "NumberOfEmployees": text("employees"),
            "Region__c": text("region"),
            "BillingCountryCode": text("country"),
            "OwnerId": ref("owner_user_id"),
            "CreatedDate": text("created_at"),
            **AUDIT,
        },
    ),
    SalesforceObject(
        "Opportunity",
        "opportunities",
        {
            "Id": ref("opportunity_id"),
            "AccountId": ref("account_id"),
            "OwnerId": ref("owner_user_id"),
            "Type": picklist("opportunity_type"),
            "CreatedDate": text("created_at"),
            "CloseDate": text("close_date"),
            "StageName": picklist("stage"),
            "Amount": text("amount"),
            "CurrencyIsoCode": text("currency"),
            "Loss_Reason__c": text("lost_reason"),
            "Competitor__c": text("competitor_id"),
            **AUDIT,
        },
    ),
    SalesforceObject(
        "OpportunityHistory",
        "opportunity_stage_history",
        {
            "OpportunityId": ref("opportunity_id"),
            "StageName": picklist("stage"),
            "Amount": text("amount"),
            "CloseDate": text("close_date"),
            "CreatedDate": text("changed_at"),
        },
    ),
    SalesforceObject(
        "OpportunityStage",
        "stages",
        {
            "MasterLabel": picklist("stage"),
            "SortOrder": text("sort_order"),
            "DefaultProbability": scaled("probability", 100),
            "IsClosed": text("is_closed"),
            "IsWon": text("is_won"),
            "IsActive": const("true"),
        },
    ),
    SalesforceObject(
        "Product2",
        "products",
        {
            "Id": ref("product_id"),
            "Name": text("product_name"),
            "Family": text("family"),
            "Tier__c": text("tier"),
            "Unit_Cost__c": text("unit_cost"),
            "CurrencyIsoCode": text("currency"),
            "LastModifiedDate": text("updated_at"),
            "IsActive": const("true"),
        },
    ),
    SalesforceObject(
        "PricebookEntry",
        "products",
        {
            "Pricebook2Id": const(STANDARD_PRICEBOOK_ID),
            "Product2Id": ref("product_id"),
            "UnitPrice": text("list_price"),
            "CurrencyIsoCode": text("currency"),
            "IsActive": const("true"),
        },
    ),
    SalesforceObject(
        "OpportunityLineItem",
        "opportunity_line_items",
        {
            "Id": ref("line_item_id"),
            "OpportunityId": ref("opportunity_id"),
            "Product2Id": ref("product_id"),
            "Quantity": text("quantity"),
            "UnitPrice": text("unit_price"),
            "Discount": scaled("discount", 100),
        },
    ),
    SalesforceObject(
        "Task",
        "activities",
        {
            "Id": ref("activity_id"),
            "Type": picklist("activity_type"),
            "CallType": picklist("direction"),
            "OwnerId": ref("user_id"),
            "WhoId": ref("lead_id"),
            "WhatId": what_id,
            "AccountId": ref("account_id"),
            "CompletedDateTime": text("occurred_at"),
            "CallDisposition": picklist("outcome"),
        },
        keep=lambda native: lambda row: not is_event(row),
    ),
    SalesforceObject(
        "Event",
        "activities",
        {
            "Id": ref("activity_id"),
            "Type": picklist("activity_type"),
            "Direction__c": picklist("direction"),
            "OwnerId": ref("user_id"),
            "WhoId": ref("lead_id"),
            "WhatId": what_id,
            "AccountId": ref("account_id"),
            "StartDateTime": text("occurred_at"),
            "Outcome__c": picklist("outcome"),
        },
        keep=lambda native: is_event,
    ),
    SalesforceObject(
        "DatedConversionRate",
        "exchange_rates",
        {
            "IsoCode": text("currency"),
            "StartDate": text("rate_date"),
            "ConversionRate": inverse_rate,
        },
    ),
)
