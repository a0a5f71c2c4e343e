"""Small numeric helpers used by every step: the seeded random streams, epoch days, lognormal draws and
weighted choices, runs of equal values in sorted arrays, and month arithmetic on epoch days.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import numpy as np

from crm_kpi.generator.constants import EPOCH, Arr


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
