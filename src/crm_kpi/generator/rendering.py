"""Rendering numpy values as pyarrow string arrays, identical for CSV and Parquet.

Ids, dates, ISO 8601 timestamps in the mixed forms of CRM exports, fixed-point money, booleans,
soft-delete flags and enums with the case and padding variants of raw exports; nulls from masks.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from crm_kpi.generator.constants import COUNTRIES, DAY, ID_WIDTH, Arr
from crm_kpi.generator.helpers import _choice

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
