"""Row-by-row comparison of two versions of a mart (oracle vs DuckDB, DuckDB vs PostgreSQL vs Spark, ...).

`compare_frames` matches rows on the grain keys and returns one message per difference, each naming the
mart, the key and the column, so that a failing test says exactly where two builds disagree.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd

MONEY_TOLERANCE = 0.01
DEFAULT_TOLERANCE = 1e-9
# Absorbs binary floating-point error around the money tolerance (0.01 must compare as within 0.01).
_FLOAT_SLACK = 1e-9


def is_null(value: Any) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    if isinstance(value, float | np.floating):
        return math.isnan(value)
    return False


def normalise(value: Any) -> Any:
    """A value in a form comparable across engines: dates as ISO strings, numbers as float, null as None."""
    if is_null(value):
        return None
    if isinstance(value, pd.Timestamp | datetime | np.datetime64):
        timestamp = pd.Timestamp(value)
        if timestamp == timestamp.normalize():
            return timestamp.date().isoformat()
        return timestamp.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer | float | np.floating | Decimal):
        return float(value)
    return value


def _key_text(keys: Sequence[str], key: tuple[Hashable, ...]) -> str:
    return ", ".join(f"{name}={value}" for name, value in zip(keys, key, strict=True))


def _indexed(mart: str, side: str, frame: pd.DataFrame, keys: Sequence[str], problems: list[str]) -> dict[tuple, dict]:
    rows: dict[tuple, dict] = {}
    for record in frame.to_dict("records"):
        key = tuple(normalise(record[name]) for name in keys)
        if key in rows:
            problems.append(f"{mart}: duplicate key ({_key_text(keys, key)}) in {side}")
        rows[key] = {column: normalise(value) for column, value in record.items()}
    return rows


def values_match(expected: Any, actual: Any, tolerance: float) -> bool:
    """Null equals null; numbers within `tolerance` (absolute or relative); anything else exactly."""
    if expected is None or actual is None:
        return expected is None and actual is None
    if isinstance(expected, float) and isinstance(actual, float):
        return math.isclose(expected, actual, rel_tol=tolerance, abs_tol=tolerance)
    return bool(expected == actual)


def compare_frames(
    mart: str,
    expected: pd.DataFrame,
    actual: pd.DataFrame,
    keys: Sequence[str],
    money_cols: Iterable[str] = (),
    tolerance: float = DEFAULT_TOLERANCE,
    money_tolerance: float = MONEY_TOLERANCE,
) -> list[str]:
    """Differences between two versions of `mart`, matched on `keys`; an empty list when they agree.

    Reports missing or extra columns, duplicate keys, keys only on one side, a different row count, and
    every differing value: money columns within `money_tolerance` (0.01), other numbers within `tolerance`
    (absolute, or relative for large values), null only equal to null, anything else exactly.
    """
    problems: list[str] = []
    money = set(money_cols)
    missing_columns = [column for column in expected.columns if column not in actual.columns]
    extra_columns = [column for column in actual.columns if column not in expected.columns]
    if missing_columns:
        problems.append(f"{mart}: columns missing from actual: {missing_columns}")
    if extra_columns:
        problems.append(f"{mart}: unexpected columns in actual: {extra_columns}")
    if len(expected) != len(actual):
        problems.append(f"{mart}: row count differs: expected {len(expected)}, actual {len(actual)}")

    expected_rows = _indexed(mart, "expected", expected, keys, problems)
    actual_rows = _indexed(mart, "actual", actual, keys, problems)
    for key in sorted(expected_rows.keys() - actual_rows.keys(), key=str):
        problems.append(f"{mart}: key ({_key_text(keys, key)}) missing from actual")
    for key in sorted(actual_rows.keys() - expected_rows.keys(), key=str):
        problems.append(f"{mart}: key ({_key_text(keys, key)}) not expected (extra in actual)")

    columns = [column for column in expected.columns if column in actual.columns and column not in keys]
    for key in sorted(expected_rows.keys() & actual_rows.keys(), key=str):
        want, got = expected_rows[key], actual_rows[key]
        for column in columns:
            allowed = money_tolerance if column in money else tolerance
            if column in money and want[column] is not None and got[column] is not None:
                matches = abs(float(want[column]) - float(got[column])) <= allowed + _FLOAT_SLACK
            else:
                matches = values_match(want[column], got[column], allowed)
            if not matches:
                problems.append(
                    f"{mart}: key ({_key_text(keys, key)}) column {column}: expected {want[column]!r}, "
                    f"actual {got[column]!r}"
                )
    return problems


def format_problems(problems: Sequence[str], limit: int = 40) -> str:
    """The first `limit` problems, one a line, and how many more there are."""
    shown = "\n".join(problems[:limit])
    more = len(problems) - limit
    return shown + (f"\n... and {more} more" if more > 0 else "")
