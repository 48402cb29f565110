"""Fill the report figures (migration 0004_report_times) of tickets that existed before they were stored.

Replays each ticket's messages and transfer events in order, as the services would have seen them: the
department at each reply (from the TRANSFERRED events), how long the customer had waited, the first
response and the resolution. Used by the data migration (wall-clock only: historical models, no
calendars) and by `manage.py backfill_report_times` (also business hours). Rows are handled in batches of
tickets, a few queries per batch.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

CUSTOMER, REPLY, NOTE = "customer", "reply", "note"


def _secs(start: datetime, end: datetime, calendar) -> int:
    from tickets.services.report_times import seconds_between

    return seconds_between(start, end, calendar)


def _timeline(messages, events):
    """Messages and transfers in time order (a transfer before a message of the same instant)."""
    items = [(e.created_at, 0, e.pk, e) for e in events] + [(m.created_at, 1, m.pk, m) for m in messages]
    return [item[3] for item in sorted(items, key=lambda x: x[:3])]


def replay(ticket, messages, events, calendar_for: Callable[[int], object]) -> list:
    """Set the figures on `ticket` and its agent messages in memory; returns the messages to save."""
    transfers = [e for e in events if e.kind == "transferred"]
    department = transfers[0].data.get("old", ticket.department_id) if transfers else ticket.department_id
    waiting, first_at, changed = ticket.created_at, None, []
    for item in _timeline(messages, transfers):
        if not hasattr(item, "body_text"):  # a transfer event
            department = item.data.get("new", department)
            continue
        if item.kind == CUSTOMER:
            waiting = waiting or item.created_at
        elif item.kind in (REPLY, NOTE):
            item.department_id = department
            if item.kind == REPLY:
                calendar = calendar_for(department)
                if waiting is not None:
                    item.response_seconds = _secs(waiting, item.created_at, None)
                    item.response_business_seconds = _secs(waiting, item.created_at, calendar)
                if first_at is None:
                    first_at = item.created_at
                    ticket.first_response_seconds = _secs(ticket.created_at, first_at, None)
                    ticket.first_response_business_seconds = _secs(ticket.created_at, first_at, calendar)
                    ticket.first_responder_id = item.author_id
                waiting = None
            changed.append(item)
    if ticket.resolved_at is not None:
        calendar = calendar_for(ticket.department_id)
        ticket.resolution_seconds = _secs(ticket.created_at, ticket.resolved_at, None)
        ticket.resolution_business_seconds = _secs(ticket.created_at, ticket.resolved_at, calendar)
        ticket.resolved_by_id = ticket.assignee_id  # best guess: who resolved it was not recorded
    return changed


MESSAGE_FIELDS = ["department", "response_seconds", "response_business_seconds"]


def backfill(
    Ticket, Message, TicketEvent, *, calendar_for: Callable[[int], object] | None = None, batch: int = 500,
    progress: Callable[[int], None] | None = None, only_missing: bool = True,
) -> int:
    """Replay every ticket (only those without figures when only_missing); returns how many were done."""
    calendar_for = calendar_for or (lambda department_id: None)
    calendars: dict[int, object] = {}

    def cached(department_id: int):
        if department_id not in calendars:
            calendars[department_id] = calendar_for(department_id)
        return calendars[department_id]

    qs = Ticket.objects.order_by("pk")
    if only_missing:
        qs = qs.filter(first_response_seconds__isnull=True, resolution_seconds__isnull=True)
    done, last = 0, 0
    while True:
        tickets = list(qs.filter(pk__gt=last)[:batch])
        if not tickets:
            return done
        ids = [t.pk for t in tickets]
        messages: dict[int, list] = {}
        for m in Message.objects.filter(ticket_id__in=ids, kind__in=(CUSTOMER, REPLY, NOTE)).order_by("pk"):
            messages.setdefault(m.ticket_id, []).append(m)
        events: dict[int, list] = {}
        for e in TicketEvent.objects.filter(ticket_id__in=ids, kind="transferred").order_by("pk"):
            events.setdefault(e.ticket_id, []).append(e)
        changed = []
        for t in tickets:
            changed += replay(t, messages.get(t.pk, []), events.get(t.pk, []), cached)
        from tickets.services.report_times import TICKET_FIELDS  # one list of the stored figures

        Ticket.objects.bulk_update(tickets, list(TICKET_FIELDS))
        Message.objects.bulk_update(changed, MESSAGE_FIELDS, batch_size=1000)
        done, last = done + len(tickets), ids[-1]
        if progress:
            progress(done)


def backfill_ratings(Rating, Message) -> int:
    """Copy each rated reply's department and author onto its rating (one UPDATE)."""
    from django.db.models import OuterRef, Subquery

    reply = Message.objects.filter(pk=OuterRef("message_id"))
    return Rating.objects.filter(department__isnull=True).update(
        department_id=Subquery(reply.values("department_id")[:1]),
        agent_id=Subquery(reply.values("author_id")[:1]),
    )
