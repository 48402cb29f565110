"""Set-based SQL of the SLA sweep: claim a batch of due tickets, write their new state, their events and
their notices with a constant number of statements however many tickets are due.

Per-ticket ORM writes cost 8.6 s for 1,000 due tickets (one UPDATE, one INSERT and a rendered mail per
ticket, all inside the claim's transaction); this module makes the sweep a handful of statements, see
benchmarks/sla.md. PostgreSQL gets hand-written SQL; other databases (the embedded SQLite default, where
one process runs the sweep) get the ORM equivalents.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.db import connection

from tickets.models import Ticket, TicketEvent

from .models import Notice

COLUMNS = (
    "id",
    "department_id",
    "assignee_id",
    "status",
    "merged_into_id",
    "first_response_due_at",
    "next_response_due_at",
    "resolution_due_at",
    "escalated_at",
    "escalation_level",
    "sla_check_at",
    "sla_warn_at",
)

# Only rows whose next check has come, oldest first, from the partial index ticket_sla_check_idx
# (sla_check_at IS NOT NULL, which "sla_check_at <= now" implies). sla_check_at is set only while a
# clock runs (new/open tickets with a pending warning or escalation level), so the index holds the active
# tickets and the scan reads the due entries only, whatever the size of the table. SKIP LOCKED: a second
# sweep, or a ticket an agent is changing right now, is passed over, never waited for or taken twice.
CLAIM_SQL = f"""
    SELECT {", ".join(COLUMNS)}
    FROM tickets_ticket
    WHERE sla_check_at <= %s
    ORDER BY sla_check_at
    LIMIT %s
    FOR UPDATE SKIP LOCKED"""  # noqa: S608 - constant column names

STATE_FIELDS = ("sla_warn_at", "escalated_at", "escalation_level", "sla_check_at")

# Casts on every value: a column of only NULLs would otherwise be typed text.
_STATE_ROW = "(%s::bigint, %s::timestamptz, %s::timestamptz, %s::smallint, %s::timestamptz)"
_UPDATE_SQL = """
    UPDATE tickets_ticket AS t
    SET sla_warn_at = v.warn_at, escalated_at = v.escalated_at, escalation_level = v.level,
        sla_check_at = v.check_at
    FROM (VALUES {rows}) AS v (id, warn_at, escalated_at, level, check_at)
    WHERE t.id = v.id"""


@dataclass(slots=True)
class DueTicket:
    """The columns of a claimed ticket the sweep reads and writes (a model instance costs ten times more)."""

    pk: int
    department_id: int
    assignee_id: int | None
    status: str
    merged_into_id: int | None
    first_response_due_at: datetime | None
    next_response_due_at: datetime | None
    resolution_due_at: datetime | None
    escalated_at: datetime | None
    escalation_level: int
    sla_check_at: datetime | None
    sla_warn_at: datetime | None


@dataclass(slots=True)
class Happening:
    """A warning or an escalation decided by the sweep: becomes a TicketEvent and a Notice."""

    ticket_id: int
    kind: str  # Notice.Kind
    target: str
    due: datetime
    level: int = 0
    recipients: dict = field(default_factory=dict)

    def event(self) -> TicketEvent:
        if self.kind == Notice.Kind.WARNING:
            kind, data = TicketEvent.Kind.SLA_WARNING, {"target": self.target, "due": self.due.isoformat()}
        else:
            kind = TicketEvent.Kind.ESCALATED
            data = {"level": self.level, "target": self.target, "due": self.due.isoformat()}
        return TicketEvent(ticket_id=self.ticket_id, kind=kind, data=data)


def claim_due(now: datetime, limit: int) -> list[DueTicket]:
    """Lock and return up to `limit` tickets whose sla_check_at has come. Call inside a transaction."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(CLAIM_SQL, [now, limit])
            return [DueTicket(*row) for row in cursor.fetchall()]
    rows = (
        Ticket.objects.select_for_update(skip_locked=True, of=("self",))
        .filter(sla_check_at__lte=now)
        .order_by("sla_check_at")
        .values_list(*COLUMNS)[:limit]
    )
    return [DueTicket(*row) for row in rows]


def write_states(tickets: list[DueTicket]) -> None:
    """One UPDATE ... FROM (VALUES ...) for the new SLA state of every claimed ticket."""
    if not tickets:
        return
    if connection.vendor != "postgresql":
        rows = [Ticket(pk=t.pk, **{f: getattr(t, f) for f in STATE_FIELDS}) for t in tickets]
        Ticket.objects.bulk_update(rows, STATE_FIELDS)
        return
    params: list = []
    for t in tickets:
        params += [t.pk, t.sla_warn_at, t.escalated_at, t.escalation_level, t.sla_check_at]
    with connection.cursor() as cursor:
        cursor.execute(_UPDATE_SQL.format(rows=", ".join([_STATE_ROW] * len(tickets))), params)


def record(happenings: list[Happening], now: datetime) -> list[Notice]:
    """The TicketEvents and Notices of the happenings: one INSERT each (ids come back with RETURNING)."""
    if not happenings:
        return []
    events = TicketEvent.objects.bulk_create([h.event() for h in happenings])
    notices = [
        Notice(
            ticket_id=h.ticket_id,
            event_id=event.pk,
            kind=h.kind,
            target=h.target,
            due=h.due,
            level=h.level,
            recipients=h.recipients,
            created_at=now,
        )
        for h, event in zip(happenings, events, strict=True)
    ]
    return Notice.objects.bulk_create(notices)
