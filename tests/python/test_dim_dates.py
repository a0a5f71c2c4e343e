"""dim_dates' calendars on the demo build, day by day, against independent computations in Python: the ISO
week from `date.isocalendar()`, the Solar Hijri date from the Jalaali calendar's algorithm with its table of
break years (the SQL uses the plain 33-year cycle that holds between two of those breaks), the fiscal year
from its definition. The dbt unit tests in dim_dates.yml pin known dates (Nowruz 1404 = 2025-03-21)."""

from __future__ import annotations

from datetime import date

import pytest

# The Jalaali calendar (Borkowski's algorithm, as in the jalaali-js library): the Persian years in which the
# 33-year leap cycle restarts, and the leap count that follows.
_BREAKS = (-61, 9, 38, 199, 426, 686, 756, 818, 1111, 1181, 1210, 1635, 2060, 2097, 2192, 2262, 2324, 2394, 2456, 3178)


def _nowruz(persian_year: int) -> date:
    """1 Farvardin of a Persian year, as a Gregorian date."""
    gregorian_year, leap_j, start = persian_year + 621, -14, _BREAKS[0]
    jump = 0
    for end in _BREAKS[1:]:
        jump = end - start
        if persian_year < end:
            break
        leap_j += jump // 33 * 8 + jump % 33 // 4
        start = end
    n = persian_year - start
    leap_j += n // 33 * 8 + (n % 33 + 3) // 4
    if jump % 33 == 4 and jump - n == 4:
        leap_j += 1
    leap_g = gregorian_year // 4 - (gregorian_year // 100 + 1) * 3 // 4 - 150
    return date(gregorian_year, 3, 20 + leap_j - leap_g)


def gregorian_to_jalaali(day: date) -> tuple[int, int, int]:
    persian_year = day.year - 621 if day >= _nowruz(day.year - 621) else day.year - 622
    day_of_year = (day - _nowruz(persian_year)).days
    if day_of_year < 186:
        return persian_year, day_of_year // 31 + 1, day_of_year % 31 + 1
    return persian_year, (day_of_year - 186) // 30 + 7, (day_of_year - 186) % 30 + 1


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


def test_jalaali_reference_itself() -> None:
    """The reference agrees with published calendars (so the comparison above means something)."""
    assert gregorian_to_jalaali(date(2025, 3, 21)) == (1404, 1, 1)
    assert gregorian_to_jalaali(date(2025, 3, 20)) == (1403, 12, 30)
    assert gregorian_to_jalaali(date(2024, 3, 20)) == (1403, 1, 1)
    assert gregorian_to_jalaali(date(2023, 3, 21)) == (1402, 1, 1)
    assert gregorian_to_jalaali(date(1979, 2, 11)) == (1357, 11, 22)
