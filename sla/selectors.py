"""Reads: the policy, calendar and escalation levels that apply to a ticket, and the SLA state shown on the
agent's ticket page."""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db.models import F, Q
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from departments.models import Department, Membership
from departments.permissions import managed_departments
from tickets.choices import Status
from tickets.memo import per_batch
from tickets.models import Ticket

from .business_hours import Calendar
from .models import BusinessHours, EscalationLevel, Holiday, SlaPolicy

# Holidays older than this cannot matter to a clock that is still running.
HOLIDAY_LOOKBACK = timedelta(days=400)

WEEKDAYS = [
    _("Monday"),
    _("Tuesday"),
    _("Wednesday"),
    _("Thursday"),
    _("Friday"),
    _("Saturday"),
    _("Sunday"),
]
TARGET_LABELS = {
    "first_response": _("First response"),
    "next_response": _("Next response"),
    "resolution": _("Resolution"),
}
DUE_FIELDS = {
    "first_response": "first_response_due_at",
    "next_response": "next_response_due_at",
    "resolution": "resolution_due_at",
}


@per_batch
def policy_for(department_id: int, priority: int) -> SlaPolicy | None:
    """The department's policy for this priority, else its any-priority policy."""
    return (
        SlaPolicy.objects.filter(Q(priority=priority) | Q(priority__isnull=True), department_id=department_id)
        .order_by(F("priority").asc(nulls_last=True))  # the policy for this very priority wins
        .first()
    )


@per_batch
def calendar_for(department_id: int, *, today: date | None = None) -> Calendar | None:
    """The department's business calendar, or None (calendar time) when it has no business hours."""
    hours = BusinessHours.objects.filter(department_id=department_id).first()
    if hours is None:
        return None
    week = {d: hours.intervals(d) for d in range(7)}
    if not any(week.values()):
        return None
    today = today or timezone.now().date()
    holidays = Holiday.objects.filter(
        Q(department_id=department_id) | Q(department__isnull=True), date__gte=today - HOLIDAY_LOOKBACK
    ).values_list("date", flat=True)
    return Calendar(tz=zoneinfo.ZoneInfo(hours.time_zone), week=week, holidays=frozenset(holidays))


@dataclass(frozen=True)
class Level:
    level: int
    after: timedelta
    notify_managers: bool
    user_ids: tuple[int, ...] = ()
    emails: tuple[str, ...] = ()


DEFAULT_LEVELS = (Level(level=1, after=timedelta(0), notify_managers=True),)


@per_batch
def levels_for(department_id: int) -> tuple[Level, ...]:
    rows = EscalationLevel.objects.filter(department_id=department_id).prefetch_related("users").order_by("level")
    return tuple(_level(row) for row in rows) or DEFAULT_LEVELS


def levels_by_department(department_ids) -> dict[int, tuple[Level, ...]]:
    """levels_for() of many departments with two queries (the sweep reads one batch's departments at once)."""
    rows = EscalationLevel.objects.filter(department_id__in=department_ids).prefetch_related("users").order_by("level")
    found: dict[int, list[Level]] = {}
    for row in rows:
        found.setdefault(row.department_id, []).append(_level(row))
    return {d: tuple(found.get(d, ())) or DEFAULT_LEVELS for d in department_ids}


def _level(row: EscalationLevel) -> Level:
    return Level(
        level=row.level,
        after=timedelta(minutes=row.after_minutes),
        notify_managers=row.notify_managers,
        user_ids=tuple(u.pk for u in row.users.all()),
        emails=tuple(row.email_list()),
    )


def active_members(department_ids) -> list[Membership]:
    """The active members (with their users) of these departments, in one query: the recipients of a batch
    of SLA notices."""
    return list(
        Membership.objects.filter(department_id__in=department_ids, user__is_active=True)
        .select_related("user")
        .order_by("department_id", "user_id")
    )


# --- Ticket page -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TargetState:
    kind: str
    label: str
    due: datetime
    left: timedelta  # negative once breached

    @property
    def breached(self) -> bool:
        return self.left <= timedelta(0)


def ticket_sla_state(ticket: Ticket, now: datetime | None = None) -> dict:
    """What the agent sees about the ticket's clocks; no queries (everything is on the row)."""
    now = now or timezone.now()
    targets = [
        TargetState(kind=kind, label=TARGET_LABELS[kind], due=due, left=due - now)
        for kind, field in DUE_FIELDS.items()
        if (due := getattr(ticket, field)) is not None
    ]
    targets.sort(key=lambda t: t.due)
    paused = ticket.status == Status.PENDING and ticket.sla_elapsed > 0
    if paused:  # one query, only for pending tickets: is there a resolution target to pause?
        policy = policy_for(ticket.department_id, ticket.priority)
        paused = bool(policy and policy.resolution_minutes)
    return {
        "targets": targets,
        "paused": paused,
        "escalated_at": ticket.escalated_at,
        "escalation_level": ticket.escalation_level,
    }


# --- Manager pages -----------------------------------------------------------------------------------


def managed_department(user, slug: str) -> Department:
    """The department if the user manages it, else Http404."""
    return get_object_or_404(managed_departments(user), slug=slug)


def department_config(department: Department) -> dict:
    hours = BusinessHours.objects.filter(department=department).first()
    return {
        "policies": list(department.sla_policies.order_by("priority")),
        "hours": hours,
        "week": [(WEEKDAYS[d], hours.day_text(d)) for d in range(7)] if hours else [],
        "holidays": list(
            Holiday.objects.filter(Q(department=department) | Q(department__isnull=True)).order_by("date")
        ),
        "levels": list(department.escalation_levels.prefetch_related("users").order_by("level")),
    }
