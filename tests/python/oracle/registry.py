"""Which KPI mart each oracle function reproduces: declared once, by the `@mart` decorator on the function.

`test_marts_match_oracle` compares every registered function with its mart on the demo build, and fails
when a KPI mart of the dbt manifest has no function here.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pandas as pd

from oracle.staging import Raw

OracleFunction = Callable[[Raw, date], pd.DataFrame]
MARTS: dict[str, OracleFunction] = {}


def mart(name: str) -> Callable[[OracleFunction], OracleFunction]:
    """Register the decorated function as the oracle of the KPI mart `name` (exactly the mart's columns)."""

    def register(function: OracleFunction) -> OracleFunction:
        if name in MARTS:
            raise ValueError(f"two oracle functions for {name}: {MARTS[name].__name__} and {function.__name__}")
        MARTS[name] = function
        return function

    return register


def all_marts(raw: Raw, as_of: date) -> dict[str, pd.DataFrame]:
    """Every KPI mart the oracle reproduces, by mart name."""
    return {name: function(raw, as_of) for name, function in sorted(MARTS.items())}
