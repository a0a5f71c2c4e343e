"""Source adapters: a CRM's own export read in place of the contract's files (CRM_KPI_SOURCE).

With CRM_KPI_SOURCE=salesforce the dbt models of models/staging/salesforce map Salesforce objects
into the contract tables of SALESFORCE_TABLES; the other contract tables (quotas, subscriptions,
surveys, ...: Salesforce has no standard object for them) are read as contract files beside the
export, as without an adapter. The preflight checks those files against the contract and the
required objects for presence (their fields are matched by name in dbt, a missing field is null).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from crm_kpi import lineage

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
SALESFORCE_OBJECTS = tuple(sorted({name for names in SALESFORCE_TABLES.values() for name in names}))
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


@dataclass(frozen=True)
class Coverage:
    """How a source feeds one catalogue KPI: the raw tables its marts read that the source's adapter
    feeds, and those it does not (a contract file beside the export, or a custom object mapped to one)."""

    kpi_id: str
    name: str
    fed: tuple[str, ...]
    beside: tuple[str, ...]

    @property
    def status(self) -> str:
        if not self.fed and not self.beside:
            return "not built yet"
        return "standard objects" if not self.beside else "needs " + ", ".join(self.beside)


# Models a KPI's lineage is not followed into: the dimensions (descriptive attributes: without their
# optional inputs the KPI still computes) and the calendar (the as-of date reads every table's dates).
_NOT_FOLLOWED = (
    "dim_",
    "int_as_of_dates",
    "int_calendar_days",
    "int_dates_spined",
    "int_months_spined",
    "int_periods_spined",
)


def measure_inputs(built: Mapping[str, Any], model_name: str) -> set[str]:
    """The raw tables a mart's measures are built from: its lineage down to the sources, not followed
    into the dimensions or the calendar (_NOT_FOLLOWED)."""
    return lineage.raw_inputs(built, model_name, _NOT_FOLLOWED)


def coverage(built: Mapping[str, Any], adapted: Mapping[str, tuple[str, ...]] = SALESFORCE_TABLES) -> list[Coverage]:
    """Per catalogue KPI (in catalogue order), the raw tables its marts' measures read, split into
    those the adapter feeds and those it does not."""
    from crm_kpi import catalogue, manifest

    result = []
    for entry in catalogue.index(manifest.marts(built)):
        tables: set[str] = set()
        for answer in entry.answers:
            tables |= measure_inputs(built, answer.mart.name)
        fed = tuple(sorted(table for table in tables if table in adapted))
        beside = tuple(sorted(table for table in tables if table not in adapted))
        result.append(Coverage(entry.kpi.id, entry.kpi.name, fed, beside))
    return result


def coverage_markdown(rows: list[Coverage]) -> str:
    """The coverage as a Markdown table: each KPI, the contract tables the adapter feeds it, and the
    contract files (or custom objects mapped to them) it needs beside the export."""
    lines = ["| KPI | name | from Salesforce objects | needs beside the export |", "|---|---|---|---|"]
    for row in rows:
        objects = sorted({name for table in row.fed for name in SALESFORCE_TABLES.get(table, ())})
        lines.append(f"| {row.kpi_id} | {row.name} | {', '.join(objects) or '-'} | {', '.join(row.beside) or '-'} |")
    return "\n".join(lines) + "\n"
