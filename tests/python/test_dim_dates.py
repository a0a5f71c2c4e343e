"""dim_dates' calendars on the demo build, day by day, against independent computations in Python: the ISO
week from `date.isocalendar()`, the Solar Hijri date from jdatetime, the fiscal year from its definition. The
dbt unit tests in dim_dates.yml pin known dates (Nowruz 1404 = 2025-03-21).

The Solar Hijri oracle is a library, not a port of the model's arithmetic: the model (dim_dates.sql) places
Nowruz with Borkowski's formula for March days; jdatetime (jalali_core) counts days from 1600 in 33-year
blocks of 12,053 days. Two algorithms that agree where both hold (a test below walks every Persian year of
the model's span), so a slip in either shows as a difference."""

from __future__ import annotations

import inspect
import math
from datetime import date, timedelta
from pathlib import Path

import jdatetime
import pytest

from crm_kpi.paths import project_root

# The span in which the model's formula holds (dim_dates.sql): Nowruz of Gregorian years 1831 to 2255.
MODEL_SPAN = range(1831, 2256)


def gregorian_to_jalaali(day: date) -> tuple[int, int, int]:
    """The oracle: jdatetime's Solar Hijri (year, month, day) of a Gregorian day."""
    persian = jdatetime.date.fromgregorian(date=day)
    return persian.year, persian.month, persian.day


def _model_nowruz(gregorian_year: int) -> date:
    """dim_dates.sql's formula, transcribed: 1 Farvardin of the Persian year starting in this Gregorian year."""
    n = gregorian_year - 1831
    leap_j = 294 + 8 * (n // 33) + (n % 33 + 3) // 4
    leap_g = gregorian_year // 4 - math.floor((gregorian_year // 100 + 1) * 3 / 4) - 150
    return date(gregorian_year, 3, 20 + leap_j - leap_g)


@pytest.mark.slow
def test_calendars_match_python(demo_warehouse) -> None:  # type: ignore[no-untyped-def]
    frame = demo_warehouse.frame("dim_dates")
    assert len(frame) > 700
    mismatches = []
    for row in frame.itertuples(index=False):
        day: date = row.date_day.date() if hasattr(row.date_day, "date") else row.date_day
        iso = day.isocalendar()
        expected = {
            "iso": (iso.year, iso.week, iso.weekday),
            "persian": gregorian_to_jalaali(day),
            "fiscal": (day.year, (day.month - 1) // 3 + 1),  # var fiscal_year_start_month defaults to 1
            "month": (day.month, day.strftime("%B")),
        }
        got = {
            "iso": (row.iso_year, row.iso_week, row.iso_day_of_week),
            "persian": (row.persian_year, row.persian_month, row.persian_day),
            "fiscal": (row.fiscal_year, row.fiscal_quarter),
            "month": (row.month_number, row.month_name),
        }
        if expected != got:
            mismatches.append((day, expected, got))
    assert not mismatches, mismatches[:5]
    nowruz = frame[(frame.persian_month == 1) & (frame.persian_day == 1)]
    assert {str(d)[:10] for d in nowruz.date_day} <= {"2025-03-21", "2026-03-21", "2024-03-20"}
    assert "2025-03-21" in {str(d)[:10] for d in nowruz.date_day}


def test_the_jalaali_oracle_is_independent_of_the_model() -> None:
    """The oracle is a library outside the project whose code shares none of the model's arithmetic (Borkowski's
    constants 1831, 294 and 150), and it agrees with the model's formula at every Nowruz of the span the model
    claims, and on the day before each (the last day of Esfand: 29, or 30 in a leap year)."""
    import jalali_core

    own_code = (project_root() / "src", project_root() / "tests", project_root() / "models", project_root() / "macros")
    for module in (jdatetime, jalali_core):
        path = Path(inspect.getfile(module)).resolve()
        assert "site-packages" in path.parts and not any(folder in path.parents for folder in own_code), path
    oracle_code = inspect.getsource(jalali_core)
    assert not any(constant in oracle_code for constant in ("1831", "294", "150"))
    for gregorian_year in MODEL_SPAN:
        nowruz = _model_nowruz(gregorian_year)
        assert gregorian_to_jalaali(nowruz) == (gregorian_year - 621, 1, 1), nowruz
        year, month, day = gregorian_to_jalaali(nowruz - timedelta(days=1))
        assert (year, month) == (gregorian_year - 622, 12) and day in (29, 30), nowruz


def test_jalaali_reference_itself() -> None:
    """The oracle agrees with published calendars (so the comparisons above mean something)."""
    assert gregorian_to_jalaali(date(2025, 3, 21)) == (1404, 1, 1)
    assert gregorian_to_jalaali(date(2025, 3, 20)) == (1403, 12, 30)
    assert gregorian_to_jalaali(date(2024, 3, 20)) == (1403, 1, 1)
    assert gregorian_to_jalaali(date(2023, 3, 21)) == (1402, 1, 1)
    assert gregorian_to_jalaali(date(1979, 2, 11)) == (1357, 11, 22)
