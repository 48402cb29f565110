"""Set-based SQL of the SLA sweep: claim a batch of due tickets, write their new state, their events and
their notices with a constant number of statements however many tickets are due.

Per-ticket ORM writes cost 8.6-14.6 s for 1,000 due tickets (an UPDATE, an INSERT and rendered mails per
ticket, inside the claim's transaction); here a batch is three statements, see benchmarks/sla.md.
PostgreSQL gets hand-written SQL; other databases (the embedded SQLite default, where one process runs
the sweep) get ORM equivalents of the same steps.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

from django.db import connection
from django.utils import timezone

from tickets.models import Ticket, TicketEvent

from .clock import RUNNING_STATUSES, clock_runs, earliest_due_at
from .models import Notice
from .selectors import DUE_FIELDS

# Only rows whose next check has come, oldest first, from sla_clock's index (sla.sql: the trigger-kept copy
# of sla_check_at, which is set only while a clock runs, so the scan reads the due entries only, whatever
# the size of the table). The ticket's own sla_check_at is tested too: FOR UPDATE re-reads a ticket changed
# since the snapshot and re-checks the condition on it, and only the ticket's row is locked. SKIP LOCKED: a
# second sweep, or a ticket an agent is changing right now, is passed over, never waited for or taken twice.
# The plan (a walk of sla_clock_check_idx, tickets by primary key) needs sla_clock's statistics: without
# them PostgreSQL guesses a third of the table is due and scans every ticket (400 ms at 1,000,000), so the
# migration and generate_dataset ANALYZE it after filling it; autovacuum keeps them current.
# The earliest due time and its target are computed here: three timestamps fewer to load per row.
CLAIM_SQL = """
    SELECT t.id, t.department_id,
           t.status = ANY(%(running)s) AND t.merged_into_id IS NULL AS runs,
           LEAST(t.first_response_due_at, t.next_response_due_at, t.resolution_due_at) AS due,
           CASE LEAST(t.first_response_due_at, t.next_response_due_at, t.resolution_due_at)
                WHEN t.first_response_due_at THEN 'first_response'
                WHEN t.next_response_due_at THEN 'next_response'
                ELSE 'resolution' END AS target,
           t.escalated_at, t.escalation_level, t.sla_warn_at
    FROM sla_clock c JOIN tickets_ticket t ON t.id = c.ticket_id
    WHERE c.check_at <= %(now)s AND t.sla_check_at <= %(now)s
    ORDER BY c.check_at
    LIMIT %(limit)s
    FOR UPDATE OF t SKIP LOCKED"""

# One statement for the whole batch, its rows in a single JSON parameter: binding one string is much
# cheaper than 5,000 placeholders of a VALUES list (or arrays of timestamps), and there is no 1,000-row
# statement to parse and plan.
UPDATE_SQL = """
    UPDATE tickets_ticket AS t
    SET sla_warn_at = v.warn_at, escalated_at = v.escalated_at, escalation_level = v.level,
        sla_check_at = v.check_at
    FROM json_to_recordset(%s::json)
         AS v (id bigint, warn_at timestamptz, escalated_at timestamptz, level smallint, check_at timestamptz)
    WHERE t.id = v.id"""

# The events and their notices in one statement. A ticket has at most one warning and one event per
# level in a batch, so (ticket, data) finds each event's notice.
RECORD_SQL = """
    WITH v AS (
        SELECT * FROM json_to_recordset(%s::json)
               AS v (ticket_id bigint, kind text, target text, due timestamptz, level smallint,
                     recipients jsonb, data jsonb)
    ), ev AS (
        INSERT INTO tickets_ticketevent (ticket_id, kind, data, created_at)
        SELECT ticket_id, CASE kind WHEN 'warning' THEN %s ELSE %s END, data, %s FROM v
        RETURNING id, ticket_id, data
    )
    INSERT INTO sla_notice (ticket_id, event_id, kind, target, due, level, recipients, created_at,
                            attempts, last_error)
    SELECT v.ticket_id, ev.id, v.kind, v.target, v.due, v.level, v.recipients, %s, 0, ''
    FROM v JOIN ev ON ev.ticket_id = v.ticket_id AND ev.data = v.data
    RETURNING id, ticket_id, event_id, kind, level"""


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


@dataclass(slots=True)
class DueTicket:
    """What the sweep needs of a claimed ticket (a model instance costs ten times more to load), and the
    SLA state it writes back."""

    pk: int
    department_id: int
    runs: bool  # the clocks run (clock.clock_runs)
    due: datetime | None  # the earliest due time ...
    target: str  # ... and whose it is: first_response, next_response or resolution
    escalated_at: datetime | None
    escalation_level: int
    sla_warn_at: datetime | None
    sla_check_at: datetime | None = None


@dataclass(slots=True)
class Happening:
    """A warning or an escalation decided by the sweep: becomes a TicketEvent and a Notice."""

    ticket_id: int
    kind: str  # Notice.Kind
    target: str
    due: datetime
    level: int = 0
    recipients: dict | None = None

    def event_data(self) -> dict:
        data = {"target": self.target, "due": self.due.isoformat()}
        return data if self.kind == Notice.Kind.WARNING else {"level": self.level, **data}


class Recorded(NamedTuple):
    pk: int
    ticket_id: int
    event_id: int
    kind: str
    level: int


def claim_due(now: datetime, limit: int) -> list[DueTicket]:
    """Lock and return up to `limit` tickets whose sla_check_at has come. Call inside a transaction."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(CLAIM_SQL, claim_params(now, limit))
            return [DueTicket(*row) for row in cursor.fetchall()]
    rows = (
        Ticket.objects.select_for_update(skip_locked=True, of=("self",))
        .filter(sla_check_at__lte=now)
        .order_by("sla_check_at")[:limit]
    )
    return [_due_ticket(t) for t in rows]


def claim_params(now: datetime, limit: int) -> dict:
    return {"running": list(RUNNING_STATUSES), "now": now, "limit": limit}


def _due_ticket(ticket: Ticket) -> DueTicket:
    due = earliest_due_at(ticket)
    target = next((k for k, f in DUE_FIELDS.items() if getattr(ticket, f) == due), "resolution")
    return DueTicket(
        ticket.pk,
        ticket.department_id,
        clock_runs(ticket),
        due,
        target,
        ticket.escalated_at,
        ticket.escalation_level,
        ticket.sla_warn_at,
    )


def write_states(tickets: list[DueTicket]) -> None:
    """One UPDATE for the new SLA state of every claimed ticket."""
    if not tickets:
        return
    if connection.vendor != "postgresql":
        fields = ["sla_warn_at", "escalated_at", "escalation_level", "sla_check_at"]
        rows = [Ticket(pk=t.pk, **{f: getattr(t, f) for f in fields}) for t in tickets]
        Ticket.objects.bulk_update(rows, fields)
        return
    rows = [
        {
            "id": t.pk,
            "warn_at": _iso(t.sla_warn_at),
            "escalated_at": _iso(t.escalated_at),
            "level": t.escalation_level,
            "check_at": _iso(t.sla_check_at),
        }
        for t in tickets
    ]
    with connection.cursor() as cursor:
        cursor.execute(UPDATE_SQL, [json.dumps(rows)])


def record(happenings: list[Happening], now: datetime) -> list[Recorded]:
    """Write a TicketEvent and a Notice for each happening; one statement on PostgreSQL."""
    if not happenings:
        return []
    if connection.vendor != "postgresql":
        return _record_orm(happenings, now)
    rows = [
        {
            "ticket_id": h.ticket_id,
            "kind": h.kind,
            "target": h.target,
            "due": h.due.isoformat(),
            "level": h.level,
            "recipients": h.recipients or {},
            "data": h.event_data(),
        }
        for h in happenings
    ]
    kinds = [TicketEvent.Kind.SLA_WARNING.value, TicketEvent.Kind.ESCALATED.value]
    params = [json.dumps(rows), *kinds, timezone.now(), now]
    with connection.cursor() as cursor:
        cursor.execute(RECORD_SQL, params)
        return [Recorded(*row) for row in cursor.fetchall()]


def _record_orm(happenings: list[Happening], now: datetime) -> list[Recorded]:
    kinds = {
        Notice.Kind.WARNING: TicketEvent.Kind.SLA_WARNING,
        Notice.Kind.ESCALATION: TicketEvent.Kind.ESCALATED,
    }
    events = TicketEvent.objects.bulk_create(
        [TicketEvent(ticket_id=h.ticket_id, kind=kinds[h.kind], data=h.event_data()) for h in happenings]
    )
    notices = Notice.objects.bulk_create(
        [
            Notice(
                ticket_id=h.ticket_id,
                event_id=e.pk,
                kind=h.kind,
                target=h.target,
                due=h.due,
                level=h.level,
                recipients=h.recipients or {},
                created_at=now,
            )
            for h, e in zip(happenings, events, strict=True)
        ]
    )
    return [Recorded(n.pk, n.ticket_id, n.event_id, n.kind, n.level) for n in notices]
