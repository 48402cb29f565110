"""Business-time arithmetic: pure functions, no database."""

import zoneinfo
from datetime import UTC, date, datetime, timedelta

import pytest

from sla.business_hours import (
    Calendar,
    NeverOpen,
    add_business_minutes,
    add_business_time,
    business_minutes_between,
    format_intervals,
    parse_intervals,
)

BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")
MOSCOW = zoneinfo.ZoneInfo("Europe/Moscow")
NINE_TO_SIX = ((9 * 60, 18 * 60),)
WEEKDAYS = {d: NINE_TO_SIX for d in range(5)}


def cal(tz=BERLIN, week=None, holidays=()):
    return Calendar(tz=tz, week=WEEKDAYS if week is None else week, holidays=frozenset(holidays))


def at(tz, *args):
    return datetime(*args, tzinfo=tz)


def test_within_the_same_day():
    start = at(BERLIN, 2026, 11, 23, 10, 0)  # Monday
    assert add_business_minutes(start, 120, cal()) == at(BERLIN, 2026, 11, 23, 12, 0)


def test_overnight_continues_next_morning():
    start = at(BERLIN, 2026, 11, 23, 17, 0)  # Monday 17:00, one hour before closing
    assert add_business_minutes(start, 4 * 60, cal()) == at(BERLIN, 2026, 11, 24, 12, 0)


def test_start_before_opening_counts_from_opening():
    start = at(BERLIN, 2026, 11, 23, 6, 30)
    assert add_business_minutes(start, 30, cal()) == at(BERLIN, 2026, 11, 23, 9, 30)


def test_friday_afternoon_skips_the_weekend():
    start = at(BERLIN, 2026, 11, 27, 16, 0)  # Friday
    assert add_business_minutes(start, 4 * 60, cal()) == at(BERLIN, 2026, 11, 30, 11, 0)  # Monday


def test_ticket_on_saturday_starts_monday():
    start = at(BERLIN, 2026, 11, 28, 12, 0)  # Saturday
    assert add_business_minutes(start, 60, cal()) == at(BERLIN, 2026, 11, 30, 10, 0)


def test_holiday_is_skipped():
    start = at(BERLIN, 2026, 12, 23, 17, 0)  # Wednesday; 24th-26th closed (26th is Saturday anyway)
    calendar = cal(holidays=[date(2026, 12, 24), date(2026, 12, 25)])
    assert add_business_minutes(start, 2 * 60, calendar) == at(BERLIN, 2026, 12, 28, 10, 0)


def test_split_day_with_lunch_break():
    week = {0: parse_intervals("09:00-13:00, 14:00-18:00")}
    start = at(BERLIN, 2026, 11, 23, 12, 0)
    assert add_business_minutes(start, 90, cal(week=week)) == at(BERLIN, 2026, 11, 23, 14, 30)


def test_time_zone_of_the_calendar_not_of_the_start():
    # 06:00 UTC is 09:00 in Moscow (UTC+3): the Moscow office is open, Berlin (07:00) is not.
    start = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)
    assert add_business_minutes(start, 60, cal(tz=MOSCOW)) == datetime(2026, 11, 23, 7, 0, tzinfo=UTC)
    assert add_business_minutes(start, 60, cal(tz=BERLIN)) == datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def test_result_keeps_the_start_time_zone():
    start = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    assert add_business_minutes(start, 10, cal()).tzinfo == UTC


def test_dst_spring_forward_business_day_unchanged():
    # Sunday 29 March 2026 Berlin goes 02:00 -> 03:00. Friday 17:00 + 2 h = Monday 10:00 (local, CEST).
    start = at(BERLIN, 2026, 3, 27, 17, 0)
    due = add_business_minutes(start, 120, cal())
    assert due == at(BERLIN, 2026, 3, 30, 10, 0)
    assert due.astimezone(UTC) == datetime(2026, 3, 30, 8, 0, tzinfo=UTC)  # UTC+2 after the change


def test_dst_round_the_clock_day_is_23_hours_long():
    always = {d: ((0, 1440),) for d in range(7)}
    start = at(BERLIN, 2026, 3, 29, 0, 0)
    end = at(BERLIN, 2026, 3, 30, 0, 0)
    assert business_minutes_between(start, end, cal(week=always)) == 23 * 60
    # 24 business hours from Sunday midnight end at 01:00 on Monday, local time.
    assert add_business_minutes(start, 24 * 60, cal(week=always)) == at(BERLIN, 2026, 3, 30, 1, 0)


def test_dst_autumn_day_is_25_hours_long():
    always = {d: ((0, 1440),) for d in range(7)}
    start, end = at(BERLIN, 2026, 10, 25, 0, 0), at(BERLIN, 2026, 10, 26, 0, 0)
    assert business_minutes_between(start, end, cal(week=always)) == 25 * 60


def test_opening_inside_the_skipped_hour_opens_after_it():
    # A night shift 02:30-05:00 on the spring-forward night: 02:30 does not exist, the shift runs 03:30-05:00.
    week = {6: ((150, 300),)}
    start = at(BERLIN, 2026, 3, 29, 0, 0)
    assert add_business_minutes(start, 30, cal(week=week)) == at(BERLIN, 2026, 3, 29, 4, 0)
    assert business_minutes_between(start, at(BERLIN, 2026, 3, 29, 6, 0), cal(week=week)) == 90


def test_between_counts_only_open_time():
    start = at(BERLIN, 2026, 11, 27, 17, 0)  # Friday 17:00
    end = at(BERLIN, 2026, 11, 30, 10, 30)  # Monday 10:30
    assert business_minutes_between(start, end, cal()) == 60 + 90
    assert business_minutes_between(end, start, cal()) == -(60 + 90)


def test_between_and_add_are_inverse():
    calendar = cal(holidays=[date(2026, 12, 24)])
    start = at(MOSCOW, 2026, 12, 20, 22, 13)
    for minutes in (0, 1, 59, 540, 541, 3000, 20000):
        due = add_business_minutes(start, minutes, calendar)
        assert business_minutes_between(start, due, calendar) == minutes


def test_zero_minutes_outside_hours_moves_to_next_opening():
    start = at(BERLIN, 2026, 11, 23, 20, 0)
    assert add_business_minutes(start, 0, cal()) == at(BERLIN, 2026, 11, 24, 9, 0)


def test_calendar_time_when_no_calendar():
    start = datetime(2026, 11, 28, 23, 0, tzinfo=UTC)
    assert add_business_time(start, timedelta(hours=4), None) == datetime(2026, 11, 29, 3, 0, tzinfo=UTC)
    assert business_minutes_between(start, start + timedelta(hours=1), None) == 60


def test_never_open_calendar_raises():
    with pytest.raises(NeverOpen):
        add_business_minutes(at(BERLIN, 2026, 1, 1, 0, 0), 10, cal(week={}))


def test_parse_and_format_intervals():
    assert parse_intervals("14:00-18:00, 9:00-13:00") == ((540, 780), (840, 1080))
    assert parse_intervals("22:00-24:00") == ((1320, 1440),)
    assert parse_intervals("") == ()
    assert format_intervals(((540, 780), (1320, 1440))) == "09:00-13:00, 22:00-24:00"
    for bad in ("9-", "18:00-09:00", "09:00-12:00, 11:00-13:00", "25:00-26:00", "abc"):
        with pytest.raises(ValueError):
            parse_intervals(bad)
