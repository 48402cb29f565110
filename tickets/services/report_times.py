"""Report figures stored when things happen, so reports aggregate columns instead of replaying history.

Called by the reply, note and status services inside their transaction, with the ticket row locked and
*before* they change `first_response_at`, `waiting_since` or `resolved_at`. Each time is stored twice:
wall-clock seconds, and seconds within the department's business hours (sla calendar; the same number when
the department has none).
"""

from __future__ import annotations

from datetime import datetime

from sla.business_hours import Calendar, NeverOpen, business_time_between
from sla.selectors import calendar_for

from ..models import Message, Ticket

TICKET_FIELDS = (
    "first_response_seconds",
    "first_response_business_seconds",
    "first_responder",
    "resolution_seconds",
    "resolution_business_seconds",
    "resolved_by",
)


class _LazyCalendar:
    """The department's calendar, read (two queries) only when a time is actually measured."""

    def __init__(self, department_id: int):
        self.department_id = department_id
        self._loaded = False
        self._calendar: Calendar | None = None

    def get(self) -> Calendar | None:
        if not self._loaded:
            self._calendar, self._loaded = calendar_for(self.department_id), True
        return self._calendar


def seconds_between(start: datetime, end: datetime, calendar: Calendar | None = None) -> int:
    """Whole seconds from start to end (never negative), in business time when a calendar is given."""
    try:
        delta = business_time_between(start, end, calendar)
    except NeverOpen:
        delta = end - start
    return max(0, int(delta.total_seconds()))


def both(start: datetime, end: datetime, calendar: _LazyCalendar) -> tuple[int, int]:
    wall = seconds_between(start, end)
    cal = calendar.get()
    return wall, (wall if cal is None else seconds_between(start, end, cal))


def on_agent_message(ticket: Ticket, message: Message) -> None:
    """A reply or note was added: remember the department, and for a reply how long the customer waited
    and whether it is the ticket's first response."""
    message.department_id = ticket.department_id
    fields = ["department"]
    if message.kind == Message.Kind.REPLY:
        calendar = _LazyCalendar(ticket.department_id)
        if ticket.waiting_since is not None:
            message.response_seconds, message.response_business_seconds = both(
                ticket.waiting_since, message.created_at, calendar
            )
            fields += ["response_seconds", "response_business_seconds"]
        if ticket.first_response_at is None:
            ticket.first_response_seconds, ticket.first_response_business_seconds = both(
                ticket.created_at, message.created_at, calendar
            )
            ticket.first_responder_id = message.author_id
    message.save(update_fields=fields)


def on_status(ticket: Ticket, actor, now: datetime) -> None:
    """After the status service stamped resolved_at: measure a new resolution, forget a reopened one."""
    if ticket.resolved_at is None:
        ticket.resolution_seconds = ticket.resolution_business_seconds = None
        ticket.resolved_by = None
    elif ticket.resolution_seconds is None:
        calendar = _LazyCalendar(ticket.department_id)
        ticket.resolution_seconds, ticket.resolution_business_seconds = both(
            ticket.created_at, ticket.resolved_at, calendar
        )
        ticket.resolved_by = actor if actor is not None and getattr(actor, "is_agent", False) else None
