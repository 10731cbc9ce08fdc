"""Kazakhstan's working-day calendar for the deadlines of Law 94-V (no I/O).

A deadline of N working days runs from the day after the day of filing, the day of filing
being the date in Almaty. Off: Saturdays, Sundays, public holidays, the days off a holiday
falling on a weekend moves to, and the days off the government transfers from a weekend.
On: the weekend days those transfers make working days. The ``holidays`` package carries
all of these for Kazakhstan (the transfers as its "substituted" days); the calendar is as
current as the installed version of that package.
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import holidays

ALMATY = ZoneInfo("Asia/Almaty")


def filing_day(filed_at: datetime) -> date:
    """The day of filing: the date in Almaty of an aware moment."""
    if filed_at.tzinfo is None or filed_at.utcoffset() is None:
        raise ValueError("filed_at must carry a time zone")
    return filed_at.astimezone(ALMATY).date()


def calendar(first_year: int) -> holidays.HolidayBase:
    """Kazakhstan's holidays from ``first_year`` on (a transfer from a December weekend
    can be decreed with the next year's days off, so that year is loaded as well)."""
    return holidays.country_holidays("KZ", years=range(first_year, first_year + 2))


def is_working_day(day: date) -> bool:
    return calendar(day.year).is_working_day(day)


def due_date(filed_at: datetime, working_days: int) -> date:
    """The ``working_days``-th working day of Kazakhstan after the day of filing."""
    if working_days < 1:
        raise ValueError("working_days must be at least 1")
    start = filing_day(filed_at)
    return calendar(start.year).get_nth_working_day(start, working_days)
