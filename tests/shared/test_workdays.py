"""Kazakhstan's working days and the law's deadlines on real holidays and transfers.

The dates are Kazakhstan's calendar for 2025 and 2026 as the ``holidays`` package encodes
it: the holidays of the Labour Code, the days off a holiday on a weekend moves to, and the
one government transfer it carries for these years (Friday 3 January 2025 off, Sunday
5 January 2025 worked instead; the package encodes no transfer for 2026).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from shared.workdays import due_date, filing_day, is_working_day

ALMATY = ZoneInfo("Asia/Almaty")

DAYS_OFF = [
    # 2025
    date(2025, 1, 1),  # New Year (Wednesday)
    date(2025, 1, 2),  # New Year (Thursday)
    date(2025, 1, 3),  # Friday: the government's transfer from Sunday 5 January
    date(2025, 1, 7),  # Orthodox Christmas (Tuesday)
    date(2025, 3, 10),  # 8 March fell on a Saturday: Monday off
    date(2025, 3, 21),  # Nauryz (Friday)
    date(2025, 3, 24),  # Nauryz 22-23 March fell on the weekend: Monday and Tuesday off
    date(2025, 3, 25),
    date(2025, 5, 1),  # Unity of the people of Kazakhstan (Thursday)
    date(2025, 5, 7),  # Defender of the Fatherland (Wednesday)
    date(2025, 5, 9),  # Victory Day (Friday)
    date(2025, 6, 6),  # Kurban Ait (Friday)
    date(2025, 7, 7),  # Capital Day 6 July fell on a Sunday
    date(2025, 9, 1),  # Constitution Day 30 August fell on a Saturday
    date(2025, 10, 27),  # Republic Day 25 October fell on a Saturday
    date(2025, 12, 16),  # Independence Day (Tuesday)
    # 2026
    date(2026, 1, 1),  # New Year (Thursday)
    date(2026, 1, 2),  # New Year (Friday)
    date(2026, 1, 7),  # Orthodox Christmas (Wednesday)
    date(2026, 3, 9),  # 8 March fell on a Sunday
    date(2026, 3, 23),  # Nauryz (Monday)
    date(2026, 3, 24),  # Nauryz 21-22 March fell on the weekend: Tuesday and Wednesday off
    date(2026, 3, 25),
    date(2026, 5, 1),  # Unity of the people of Kazakhstan (Friday)
    date(2026, 5, 7),  # Defender of the Fatherland (Thursday)
    date(2026, 5, 11),  # Victory Day 9 May fell on a Saturday
    date(2026, 5, 27),  # Kurban Ait (Wednesday)
    date(2026, 7, 6),  # Capital Day (Monday)
    date(2026, 10, 26),  # Republic Day 25 October fell on a Sunday
    date(2026, 12, 16),  # Independence Day (Wednesday)
]

WORKING = [
    date(2025, 1, 5),  # Sunday worked instead of Friday 3 January
    date(2025, 1, 6),
    date(2025, 1, 8),
    date(2025, 3, 26),
    date(2025, 5, 8),
    date(2025, 6, 9),
    date(2025, 12, 17),
    date(2026, 1, 5),
    date(2026, 3, 26),
    date(2026, 5, 8),
    date(2026, 5, 28),
    date(2026, 12, 17),
]


@pytest.mark.parametrize("day", DAYS_OFF, ids=str)
def test_holidays_and_transferred_days_are_off(day: date) -> None:
    assert not is_working_day(day)


@pytest.mark.parametrize("day", WORKING, ids=str)
def test_working_days_include_a_transferred_working_sunday(day: date) -> None:
    assert is_working_day(day)


def test_weekends_are_off() -> None:
    assert not is_working_day(date(2026, 11, 7))  # Saturday
    assert not is_working_day(date(2026, 11, 8))  # Sunday
    assert not is_working_day(date(2025, 1, 4))  # the Saturday before the worked Sunday


def almaty(*args: int) -> datetime:
    return datetime(*args, tzinfo=ALMATY)  # type: ignore[misc]


@pytest.mark.parametrize(
    ("filed", "n", "due"),
    [
        # Around Kurban Ait and the May holidays of 2026 (7, 11 and 27 May off).
        (almaty(2026, 5, 6, 10, 0), 1, date(2026, 5, 8)),
        (almaty(2026, 5, 6, 10, 0), 3, date(2026, 5, 13)),
        (almaty(2026, 5, 6, 10, 0), 10, date(2026, 5, 22)),
        (almaty(2026, 5, 6, 10, 0), 15, date(2026, 6, 1)),
        # Nauryz: 2026 off from Saturday 21 to Wednesday 25 March, 2025 from 21 to 25 March.
        (almaty(2026, 3, 20, 9, 0), 1, date(2026, 3, 26)),
        (almaty(2026, 3, 20, 9, 0), 3, date(2026, 3, 30)),
        (almaty(2025, 3, 20, 9, 0), 1, date(2025, 3, 26)),
        # The new year of 2025: 1-3 January off, Sunday 5 January worked, 7 January off.
        (almaty(2024, 12, 31, 12, 0), 1, date(2025, 1, 5)),
        (almaty(2025, 1, 4, 12, 0), 1, date(2025, 1, 5)),
        (almaty(2025, 1, 4, 12, 0), 3, date(2025, 1, 8)),
        # Independence Day 2025 and 2026, Kurban Ait 2025, Capital Day 2026.
        (almaty(2025, 12, 15, 18, 0), 1, date(2025, 12, 17)),
        (almaty(2026, 12, 15, 18, 0), 1, date(2026, 12, 17)),
        (almaty(2025, 6, 5, 18, 0), 1, date(2025, 6, 9)),
        (almaty(2026, 7, 3, 18, 0), 1, date(2026, 7, 7)),
        # Into the next year: 16 December and 1, 2, 7 January off.
        (almaty(2026, 12, 11, 12, 0), 15, date(2027, 1, 6)),
    ],
)
def test_due_is_the_nth_working_day_after_filing(filed: datetime, n: int, due: date) -> None:
    assert due_date(filed, n) == due


def test_the_day_of_filing_is_the_almaty_date() -> None:
    # Sunday 19:30 UTC is already Monday 00:30 in Almaty: filed on Monday, due Tuesday
    # (from the UTC date, Sunday, it would be Monday).
    assert due_date(datetime(2026, 11, 8, 19, 30, tzinfo=UTC), 1) == date(2026, 11, 10)
    # Saturday 4 January 2025 19:30 UTC is Sunday 5 January in Almaty, a worked Sunday:
    # the next working day after it is Monday 6 January.
    assert due_date(datetime(2025, 1, 4, 19, 30, tzinfo=UTC), 1) == date(2025, 1, 6)
    # Friday 18:59 UTC is still Friday 23:59 in Almaty.
    assert filing_day(datetime(2026, 11, 6, 18, 59, tzinfo=UTC)) == date(2026, 11, 6)


def test_the_day_of_filing_does_not_depend_on_the_offset_written() -> None:
    # Sunday 23:30 in Almaty is Monday 03:30 in Tokyo: filed on Sunday, due Monday.
    tokyo = datetime(2026, 11, 9, 3, 30, tzinfo=ZoneInfo("Asia/Tokyo"))
    assert filing_day(tokyo) == date(2026, 11, 8)
    assert due_date(tokyo, 1) == date(2026, 11, 9)
    # Friday 23:30 in Almaty written with another offset: still Friday, due Monday.
    friday = almaty(2026, 11, 6, 23, 30).astimezone(timezone(timedelta(hours=9)))
    assert filing_day(friday) == date(2026, 11, 6)
    assert due_date(friday, 1) == date(2026, 11, 9)


def test_a_naive_moment_or_no_working_days_is_refused() -> None:
    with pytest.raises(ValueError, match="time zone"):
        due_date(datetime(2026, 11, 6, 12, 0), 1)
    with pytest.raises(ValueError, match="at least 1"):
        due_date(almaty(2026, 11, 6, 12, 0), 0)
