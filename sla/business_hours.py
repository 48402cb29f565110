"""Business-time arithmetic: pure functions, no database.

A `Calendar` is a weekly schedule in a time zone (per weekday, opening intervals as minutes after local
midnight, 1440 meaning "until midnight") plus closed dates (holidays). Every opening interval is turned into
two real instants (aware datetimes) before any arithmetic, so durations are always real elapsed time: an
interval 00:00-24:00 on the day clocks go forward lasts 23 hours, and an interval that starts inside the
skipped hour starts when the clock shows the first valid time after it.

`calendar=None` means calendar time: plain datetime arithmetic.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

DAY_MINUTES = 24 * 60
# Guards the day-by-day walk: a schedule with open hours finds one within a week unless a year of
# holidays is in the way; beyond this the calendar is treated as never open.
MAX_DAYS = 3 * 366

Interval = tuple[int, int]  # (opens, closes) in minutes after local midnight, 0 <= opens < closes <= 1440


@dataclass(frozen=True)
class Calendar:
    tz: zoneinfo.ZoneInfo
    week: dict[int, tuple[Interval, ...]]  # weekday (Monday = 0) -> sorted opening intervals
    holidays: frozenset[date] = field(default_factory=frozenset)

    @property
    def is_ever_open(self) -> bool:
        return any(self.week.get(d) for d in range(7))


class NeverOpen(ValueError):
    """The calendar has no opening hours within MAX_DAYS: business time cannot advance."""


def _local_instant(day: date, minute: int, tz: zoneinfo.ZoneInfo) -> datetime:
    """The real instant of local wall time `minute` on `day`, as UTC.

    A wall time inside a spring-forward gap does not exist; it is moved to the same number of minutes
    after the gap (02:30 -> 03:30), which is what fold=0 gives for a gap in zoneinfo. An ambiguous time
    (autumn fold) is its first occurrence."""
    if minute >= DAY_MINUTES:
        day, minute = day + timedelta(days=1), minute - DAY_MINUTES
    local = datetime.combine(day, time(minute // 60, minute % 60), tzinfo=tz)
    return local.astimezone(UTC)


def _open_spans(cal: Calendar, start: datetime) -> Iterator[tuple[datetime, datetime]]:
    """Opening spans (UTC start, UTC end) in order, from the local day containing `start` on.

    Spans wholly before `start` are included for that first day; callers clip them."""
    day = start.astimezone(cal.tz).date() - timedelta(days=1)  # a span of yesterday may still be open
    for _ in range(MAX_DAYS):
        if day not in cal.holidays:
            for opens, closes in cal.week.get(day.weekday(), ()):
                a, b = _local_instant(day, opens, cal.tz), _local_instant(day, closes, cal.tz)
                if b > a:
                    yield a, b
        day += timedelta(days=1)


def add_business_time(start: datetime, amount: timedelta, calendar: Calendar | None) -> datetime:
    """The instant when `amount` of business time has passed after `start`.

    With amount 0 the result is `start` itself if the calendar is open then, else the next opening."""
    if calendar is None:
        return start + amount
    if amount < timedelta(0):
        raise ValueError("amount must not be negative")
    remaining = amount
    for a, b in _open_spans(calendar, start):
        if b <= start:
            continue
        begin = max(a, start)
        if remaining <= b - begin:
            return (begin + remaining).astimezone(start.tzinfo)
        remaining -= b - begin
    raise NeverOpen(f"no opening hours within {MAX_DAYS} days")


def business_time_between(start: datetime, end: datetime, calendar: Calendar | None) -> timedelta:
    """Business time from `start` to `end` (negative when `end` is earlier)."""
    if calendar is None:
        return end - start
    if end < start:
        return -business_time_between(end, start, calendar)
    total = timedelta(0)
    for a, b in _open_spans(calendar, start):
        if a >= end:
            break
        if b > start:
            total += min(b, end) - max(a, start)
    return total


def add_business_minutes(start: datetime, minutes: float, calendar: Calendar | None) -> datetime:
    return add_business_time(start, timedelta(minutes=minutes), calendar)


def business_minutes_between(start: datetime, end: datetime, calendar: Calendar | None) -> float:
    return business_time_between(start, end, calendar) / timedelta(minutes=1)


# --- Schedules as text: "09:00-13:00, 14:00-18:00" ---------------------------------------------------


def parse_intervals(text: str) -> tuple[Interval, ...]:
    """'09:00-13:00, 14:00-18:00' -> ((540, 780), (840, 1080)). '24:00' closes at midnight.
    Raises ValueError on bad syntax, empty or overlapping intervals."""
    intervals = []
    for part in (p.strip() for p in text.replace(";", ",").split(",")):
        if not part:
            continue
        opens, sep, closes = part.partition("-")
        if not sep:
            raise ValueError(part)
        a, b = _parse_minute(opens), _parse_minute(closes)
        if not a < b:
            raise ValueError(part)
        intervals.append((a, b))
    intervals.sort()
    for (_, b1), (a2, _) in zip(intervals, intervals[1:], strict=False):
        if a2 < b1:
            raise ValueError("overlap")
    return tuple(intervals)


def _parse_minute(text: str) -> int:
    hours, _, minutes = text.strip().partition(":")
    h, m = int(hours), int(minutes or 0)
    if not (0 <= m < 60 and (0 <= h < 24 or (h == 24 and m == 0))):
        raise ValueError(text)
    return h * 60 + m


def format_intervals(intervals) -> str:
    return ", ".join(f"{_fmt(a)}-{_fmt(b)}" for a, b in intervals)


def _fmt(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"
