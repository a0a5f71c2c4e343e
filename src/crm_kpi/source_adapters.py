"""Source adapters: a CRM's own export read in place of the contract's files (CRM_KPI_SOURCE).

With CRM_KPI_SOURCE=salesforce the dbt models of models/staging/salesforce map Salesforce objects
into the contract tables of SALESFORCE_TABLES; the other contract tables (quotas, subscriptions,
surveys, ...: Salesforce has no standard object for them) are read as contract files beside the
export, as without an adapter. The preflight checks those files against the contract and the
required objects for presence (their fields are matched by name in dbt, a missing field is null).
"""

from __future__ import annotations

import os
from pathlib import Path

SOURCE_ENV = "CRM_KPI_SOURCE"
SOURCES = ("crm", "salesforce")

# The contract tables the Salesforce adapter feeds, and the object(s) each comes from.
SALESFORCE_TABLES: dict[str, tuple[str, ...]] = {
    "users": ("User",),
    "teams": ("UserRole",),
    "campaigns": ("Campaign",),
    "leads": ("Lead",),
    "lead_status_history": ("LeadHistory",),
    "campaign_touches": ("CampaignMember",),
    "accounts": ("Account",),
    "opportunities": ("Opportunity", "Lead"),
    "opportunity_stage_history": ("OpportunityHistory",),
    "stages": ("OpportunityStage",),
    "products": ("Product2", "PricebookEntry"),
    "opportunity_line_items": ("OpportunityLineItem",),
    "activities": ("Task", "Event"),
    "exchange_rates": ("DatedConversionRate",),
}
SALESFORCE_REQUIRED_OBJECTS = ("User", "Lead", "Opportunity", "OpportunityStage")


def source_system() -> str:
    """The export's source system: crm (the contract's own files) or a CRM with an adapter."""
    value = os.environ.get(SOURCE_ENV, "crm") or "crm"
    if value not in SOURCES:
        raise ValueError(f"{SOURCE_ENV}={value!r}: one of {', '.join(SOURCES)}")
    return value


def adapted_tables() -> dict[str, tuple[str, ...]]:
    """The contract tables the current source's adapter feeds (none for the contract's files)."""
    return SALESFORCE_TABLES if source_system() == "salesforce" else {}


def object_problems(raw_path: Path, raw_format: str) -> list[str]:
    """The adapter's required objects that are missing or empty in the export folder."""
    if source_system() != "salesforce":
        return []
    problems = []
    for name in SALESFORCE_REQUIRED_OBJECTS:
        path = raw_path / f"{name}.{raw_format}"
        if not path.is_file() or path.stat().st_size == 0:
            state = "is missing" if not path.is_file() else "is empty (0 bytes, not even a header)"
            problems.append(f"{path}: the required Salesforce object {name} {state}")
    return problems
