"""The SLA clocks of one ticket, computed from its row, its policy and its calendar. Pure: no queries.

Rules
- The clocks run while the ticket is new or open. Pending (waiting for the customer), resolved and
  closed stop them.
- First response: from creation until the first agent reply.
- Next response: after the first reply, from the oldest unanswered customer message (waiting_since).
- Resolution: from creation; it stops while stopped and continues with the time it had used
  (sla_elapsed + time since sla_resumed_at).
- A warning is due at `warning_percent` of the target of the clock that is due first; an escalation level
  is due `after` its level's delay past that due time. A breach episode ends when no clock is overdue.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from tickets.choices import Status

from .business_hours import Calendar, add_business_time, business_time_between

RUNNING_STATUSES = (Status.NEW, Status.OPEN)


@dataclass(frozen=True)
class Due:
    kind: str
    at: datetime
    warn_at: datetime | None


def clock_runs(ticket) -> bool:
    return ticket.status in RUNNING_STATUSES and ticket.merged_into_id is None


def settle_resolution_clock(ticket, now: datetime, calendar: Calendar | None) -> None:
    """Stop or restart the resolution clock to match the ticket's status."""
    runs = clock_runs(ticket)
    if runs and ticket.sla_resumed_at is None:
        ticket.sla_resumed_at = now
    elif not runs and ticket.sla_resumed_at is not None:
        used = business_time_between(ticket.sla_resumed_at, now, calendar)
        ticket.sla_elapsed += max(0, int(used.total_seconds()))
        ticket.sla_resumed_at = None


def _due(kind: str, start: datetime, target: timedelta, percent: int, calendar: Calendar | None) -> Due:
    at = add_business_time(start, max(target, timedelta(0)), calendar)
    warn_amount = target * percent / 100
    warn_at = add_business_time(start, warn_amount, calendar) if warn_amount > timedelta(0) else start
    return Due(kind=kind, at=at, warn_at=warn_at if warn_at < at else None)


def due_times(ticket, policy, calendar: Calendar | None) -> dict[str, Due]:
    """The running clocks of the ticket under `policy` (call settle_resolution_clock first)."""
    if policy is None or not clock_runs(ticket):
        return {}
    pct = policy.warning_percent
    result = {}
    if ticket.first_response_at is None:
        if policy.first_response_minutes:
            target = timedelta(minutes=policy.first_response_minutes)
            result["first_response"] = _due("first_response", ticket.created_at, target, pct, calendar)
    elif ticket.waiting_since is not None and policy.next_response_minutes:
        target = timedelta(minutes=policy.next_response_minutes)
        result["next_response"] = _due("next_response", ticket.waiting_since, target, pct, calendar)
    if policy.resolution_minutes and ticket.sla_resumed_at is not None:
        target = timedelta(minutes=policy.resolution_minutes) - timedelta(seconds=ticket.sla_elapsed)
        full = timedelta(minutes=policy.resolution_minutes)
        # The warning point of the whole target, shifted like the due time by the time already used.
        warn_left = full * pct / 100 - timedelta(seconds=ticket.sla_elapsed)
        due = _due("resolution", ticket.sla_resumed_at, target, 100, calendar)
        warn_at = add_business_time(ticket.sla_resumed_at, max(warn_left, timedelta(0)), calendar)
        result["resolution"] = Due("resolution", due.at, warn_at if warn_at < due.at else None)
    return result


def first_due(dues: dict[str, Due]) -> Due | None:
    return min(dues.values(), key=lambda d: d.at, default=None)


def earliest_due_at(ticket) -> datetime | None:
    values = [ticket.first_response_due_at, ticket.next_response_due_at, ticket.resolution_due_at]
    return min((v for v in values if v is not None), default=None)


def next_check(ticket, levels) -> datetime | None:
    """When the sweep must look again: the pending warning or the next escalation level."""
    return check_after(earliest_due_at(ticket), ticket.sla_warn_at, levels, ticket.escalation_level)


def check_after(due: datetime | None, warn_at: datetime | None, levels, current_level: int) -> datetime | None:
    candidates = [warn_at] if warn_at else []
    level = next_level(levels, current_level)
    if due is not None and level is not None:
        candidates.append(due + level.after)
    return min(candidates, default=None)


def next_level(levels, current: int):
    """The first configured level above the one already reached (levels are sorted by number)."""
    return next((lv for lv in levels if lv.level > current), None)
