"""An independent pandas re-implementation of the KPI marts, computed straight from the raw CSV files.

It is written from the written definitions only (models/docs/definitions.md, the formulas in each mart's
YAML, ../shared/RAW_CONTRACT.md and KPI_CATALOG.md), never from the dbt SQL, so that a test comparing it
with the marts catches a drift on either side.

Layout: `staging` (load_raw: type checks and quarantine from the raw contract, re-exports, soft deletes,
money conversion); `shared` (one small function per shared definition: lead lifecycle, first-touch
attribution, new customers, subscription months, closed deals); then one module per catalogue area with
one function per KPI mart, registered with `@mart("<mart name>")` (`registry`) and returning exactly the
mart's columns. Money is kept unrounded (float) until the last step of each mart, where it is rounded to 2
decimals; rates are computed from the rounded money columns, as the marts' recomputation guard reads them.

Adding a KPI mart: write its function in the module of its area with `@mart(...)`; nothing else here.
"""

from __future__ import annotations

from oracle import customers, funnel, marketing, sales, team  # noqa: F401 - importing registers the marts
from oracle.registry import MARTS, all_marts, mart
from oracle.shared import (
    as_of_date,
    first_data_date,
    first_touch_campaigns,
    lead_lifecycle,
    new_customers,
    subscription_months,
)
from oracle.staging import Raw, load_raw, parse_timestamps

__all__ = [
    "MARTS",
    "Raw",
    "all_marts",
    "as_of_date",
    "first_data_date",
    "first_touch_campaigns",
    "lead_lifecycle",
    "load_raw",
    "mart",
    "new_customers",
    "parse_timestamps",
    "subscription_months",
]
