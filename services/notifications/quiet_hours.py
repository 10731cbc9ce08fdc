"""Quiet hours for marketing SMS: pure, no I/O.

A marketing text is not sent at night in the customer's region (``SMS_QUIET_START`` to
``SMS_QUIET_END`` in ``SMS_TIMEZONE``, 21:00 to 09:00 in Asia/Almaty by default); it is held
until the window opens. Transactional messages (an order dispatched, a sign-in code) are
never held: the caller only asks here for marketing.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo

QUIET_START = time(21, 0)
QUIET_END = time(9, 0)


def held_until(
    now_utc: datetime,
    tz: str | tzinfo,
    start: time = QUIET_START,
    end: time = QUIET_END,
) -> datetime | None:
    """None when a marketing SMS may go now, else the UTC instant the window opens.

    The quiet period is ``[start, end)`` in local time and may run over midnight
    (start later than end); ``start == end`` means there are no quiet hours.
    """
    if now_utc.tzinfo is None:
        raise ValueError("now_utc must be timezone-aware")
    if start == end:
        return None
    zone = ZoneInfo(tz) if isinstance(tz, str) else tz
    local = now_utc.astimezone(zone)
    clock = local.time().replace(tzinfo=None)
    if start < end:  # e.g. 01:00-06:00, inside one day
        quiet = start <= clock < end
        opens_on = local.date()
    else:  # over midnight, e.g. 21:00-09:00
        quiet = clock >= start or clock < end
        opens_on = local.date() + timedelta(days=1) if clock >= start else local.date()
    if not quiet:
        return None
    opens = datetime.combine(opens_on, end, tzinfo=zone).astimezone(UTC)
    return opens if opens > now_utc else None
