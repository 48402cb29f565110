"""The period a report covers: a preset (last 7/30/90/365 days) or chosen dates, in the user's time zone."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

PRESETS = {"7d": 7, "30d": 30, "90d": 90, "365d": 365}
PRESET_LABELS = {"7d": _("7 days"), "30d": _("30 days"), "90d": _("90 days"), "365d": _("1 year")}
DEFAULT = "30d"
MAX_DAYS = 2 * 366


@dataclass(frozen=True)
class Period:
    first_day: date
    last_day: date  # inclusive
    preset: str = ""  # "" for chosen dates

    @property
    def since(self) -> datetime:
        return timezone.make_aware(datetime.combine(self.first_day, time.min))

    @property
    def until(self) -> datetime:
        return timezone.make_aware(datetime.combine(self.last_day + timedelta(days=1), time.min))

    @property
    def days(self) -> list[date]:
        return [self.first_day + timedelta(days=i) for i in range((self.last_day - self.first_day).days + 1)]

    def query(self) -> dict[str, str]:
        if self.preset:
            return {"period": self.preset}
        return {"since": self.first_day.isoformat(), "until": self.last_day.isoformat()}


def _parse_date(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def period_from(params, *, today: date | None = None) -> Period:
    """From GET parameters: period=30d, or since=YYYY-MM-DD&until=YYYY-MM-DD; bad values fall back."""
    today = today or timezone.localdate()
    since, until = _parse_date(params.get("since")), _parse_date(params.get("until"))
    if since and not params.get("period"):
        until = min(until or today, today)
        if since <= until and (until - since).days < MAX_DAYS:
            return Period(since, until)
    preset = params.get("period") if params.get("period") in PRESETS else DEFAULT
    return Period(today - timedelta(days=PRESETS[preset] - 1), today, preset)
