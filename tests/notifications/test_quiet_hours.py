"""Quiet hours of marketing SMS, across every quarter hour of days in several zones."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from services.notifications.quiet_hours import held_until

ALMATY = ZoneInfo("Asia/Almaty")


def quarter_hours(day: datetime, days: int = 1) -> list[datetime]:
    return [day + timedelta(minutes=15 * i) for i in range(96 * days)]


def in_window(clock: time, start: time, end: time) -> bool:
    if start < end:
        return start <= clock < end
    return clock >= start or clock < end


WINDOWS = [
    (time(21), time(9)),  # the default, over midnight
    (time(1), time(6)),  # inside one day
    (time(22, 30), time(7, 45)),
]
ZONES = ["Asia/Almaty", "Asia/Aqtobe", "Europe/Berlin", "UTC"]


@pytest.mark.parametrize(("start", "end"), WINDOWS)
@pytest.mark.parametrize("zone", ZONES)
def test_held_exactly_inside_the_window_until_it_opens(start: time, end: time, zone: str) -> None:
    tz = ZoneInfo(zone)
    # Two days around the end of March: Berlin changes its clocks in between.
    for now in quarter_hours(datetime(2026, 3, 28, tzinfo=UTC), days=3):
        clock = now.astimezone(tz).time()
        opens = held_until(now, zone, start, end)
        if not in_window(clock, start, end):
            assert opens is None, now
            continue
        assert opens is not None, now
        assert opens.tzinfo is not None and opens.utcoffset() == timedelta(0)
        assert now < opens <= now + timedelta(hours=24)
        assert opens.astimezone(tz).time() == end
        assert held_until(opens, zone, start, end) is None  # may send once it opens
        # Nothing in between is allowed to send: the window opens at the first instant.
        assert held_until(opens - timedelta(minutes=1), zone, start, end) == opens


def test_almaty_evening_is_held_until_nine_next_morning() -> None:
    evening = datetime(2026, 6, 10, 22, 15, tzinfo=ALMATY)
    opens = held_until(evening.astimezone(UTC), "Asia/Almaty")
    assert opens == datetime(2026, 6, 11, 9, 0, tzinfo=ALMATY).astimezone(UTC)


def test_almaty_small_hours_are_held_until_nine_the_same_morning() -> None:
    night = datetime(2026, 6, 11, 3, 0, tzinfo=ALMATY)
    opens = held_until(night.astimezone(UTC), ALMATY)
    assert opens == datetime(2026, 6, 11, 9, 0, tzinfo=ALMATY).astimezone(UTC)


def test_edges_of_the_default_window() -> None:
    def at(hour: int, minute: int) -> datetime | None:
        return held_until(datetime(2026, 6, 11, hour, minute, tzinfo=ALMATY), "Asia/Almaty")

    assert at(9, 0) is None
    assert at(20, 59) is None
    assert at(8, 59) is not None
    assert at(21, 0) is not None


@pytest.mark.parametrize("zone", ZONES)
def test_start_equal_to_end_means_no_quiet_hours(zone: str) -> None:
    for now in quarter_hours(datetime(2026, 1, 1, tzinfo=UTC)):
        assert held_until(now, zone, time(21), time(21)) is None


def test_a_naive_instant_is_refused() -> None:
    with pytest.raises(ValueError):
        held_until(datetime(2026, 1, 1, 12, 0), "Asia/Almaty")
