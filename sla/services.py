"""The only code that changes SLA state: recompute() after every ticket change (called by tickets.services
inside their transaction), the sweep (Celery beat) that sends warnings and escalations, and configuration
changes made by managers."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime, timedelta
from functools import partial

from django.db import transaction
from django.utils import timezone

from tickets.models import Ticket

from . import bulk, hooks
from .bulk import DueTicket, Happening
from .business_hours import NeverOpen
from .clock import (
    RUNNING_STATUSES,
    check_after,
    earliest_due_at,
    first_due,
    next_check,
    next_level,
    settle_resolution_clock,
)
from .clock import due_times as compute_due_times
from .models import Notice
from .selectors import DUE_FIELDS, calendar_for, levels_by_department, levels_for, policy_for

logger = logging.getLogger(__name__)

SLA_FIELDS = [
    *DUE_FIELDS.values(),
    "escalated_at",
    "escalation_level",
    "sla_check_at",
    "sla_warn_at",
    "sla_resumed_at",
    "sla_elapsed",
]
SWEEP_BATCH = 1000  # 1,000 due tickets: one claim, one UPDATE, two INSERTs
NOTIFY_CHUNK = 100  # notices rendered by one notify task
RETRY_AFTER = timedelta(minutes=5)  # a ticket whose notification failed to render is retried later


# --- Recompute -------------------------------------------------------------------------------------


def recompute(ticket: Ticket, now: datetime | None = None, *, save: bool = True) -> list[str]:
    """Bring the ticket's due times, pending warning and next sweep time in line with its state and its
    department's policy. Call with the row locked, inside the transaction that changed it.

    Returns the SLA fields that changed. Only those are written (nothing at all for a department without
    a policy); with save=False the caller writes them together with its own UPDATE of the ticket."""
    now = now or timezone.now()
    before = [getattr(ticket, name) for name in SLA_FIELDS]
    policy = policy_for(ticket.department_id, ticket.priority)
    calendar = calendar_for(ticket.department_id) if policy is not None and policy.business_hours else None
    try:
        apply_clocks(ticket, policy, calendar, now)
    except NeverOpen:
        # A calendar closed for years (misconfigured holidays) must not stop the ticket's change.
        logger.warning("department %s has no business hours ahead; using calendar time", ticket.department_id)
        apply_clocks(ticket, policy, None, now)
    changed = [name for name, old in zip(SLA_FIELDS, before, strict=True) if getattr(ticket, name) != old]
    if save and changed:
        ticket.save(update_fields=changed)
    return changed


def apply_clocks(ticket: Ticket, policy, calendar, now: datetime) -> None:
    old_due = earliest_due_at(ticket)
    settle_resolution_clock(ticket, now, calendar)
    dues = compute_due_times(ticket, policy, calendar)
    for kind, field in DUE_FIELDS.items():
        setattr(ticket, field, dues[kind].at if kind in dues else None)
    first = first_due(dues)
    if first is None or first.at > now:
        # Nothing overdue: a breach episode, if there was one, is over; the next breach escalates afresh.
        ticket.escalated_at, ticket.escalation_level = None, 0
    if first is None:
        ticket.sla_warn_at = None
    elif first.at != old_due:
        # A new due time gets its own warning; an unchanged one keeps its state (a sent warning stays sent).
        ticket.sla_warn_at = first.warn_at if first.at > now else None
    ticket.sla_check_at = next_check(ticket, levels_for(ticket.department_id)) if first else None


def recompute_department(department_id: int, *, batch: int = 500) -> int:
    """Recompute the open tickets of a department after its policy, hours or holidays changed."""
    count, last_id = 0, 0
    while True:
        ids = list(
            Ticket.objects.filter(department_id=department_id, status__in=RUNNING_STATUSES, pk__gt=last_id)
            .order_by("pk")
            .values_list("pk", flat=True)[:batch]
        )
        if not ids:
            return count
        with transaction.atomic():
            now = timezone.now()
            for ticket in Ticket.objects.select_for_update().filter(pk__in=ids).order_by("pk"):
                recompute(ticket, now)
        count, last_id = count + len(ids), ids[-1]


# --- Sweep -----------------------------------------------------------------------------------------


def sweep(now: datetime | None = None, *, batch: int = SWEEP_BATCH) -> int:
    """Record the warnings and escalations that are due; their mail goes out after commit (notify task).
    Safe to run concurrently and to kill at any point: rows are claimed with FOR UPDATE SKIP LOCKED, and
    the new ticket state, its events and its notices commit together, so each happens exactly once."""
    now = now or timezone.now()
    total = 0
    while True:
        done = sweep_batch(now, batch)
        total += done
        if done < batch:
            return total


@transaction.atomic
def sweep_batch(now: datetime, batch: int = SWEEP_BATCH) -> int:
    """One batch with a constant number of statements: claim, levels, UPDATE, INSERT events, INSERT notices."""
    tickets = bulk.claim_due(now, batch)
    if not tickets:
        return 0
    levels = levels_by_department({t.department_id for t in tickets})
    states, happenings = [], []
    for ticket in tickets:
        state = replace(ticket)
        try:
            happenings += process_due(state, now, levels[ticket.department_id])
        except Exception:
            logger.exception("SLA sweep failed for ticket %s; retrying later", ticket.pk)
            state = replace(ticket, sla_check_at=now + RETRY_AFTER)
        states.append(state)
    bulk.write_states(states)
    notices = bulk.record(happenings, now)
    transaction.on_commit(partial(_after_commit, notices))
    return len(tickets)


def process_due(ticket: DueTicket, now: datetime, levels) -> list[Happening]:
    """Decide, without queries, what is due for one claimed ticket, and move its SLA state on."""
    if not ticket.runs:  # only a row written around the services (raw SQL) can get here
        ticket.sla_check_at = None
        return []
    happened = []
    due, kind = ticket.due, ticket.target
    if ticket.sla_warn_at is not None and ticket.sla_warn_at <= now:
        if due is not None and due > now:  # once breached, the escalation says it instead
            happened.append(_warn(ticket, kind, due, now))
        ticket.sla_warn_at = None
    level = next_level(levels, ticket.escalation_level)
    while due is not None and level is not None and due + level.after <= now:
        happened.append(_escalate(ticket, level, kind, due, now))
        level = next_level(levels, ticket.escalation_level)
    ticket.sla_check_at = check_after(due, ticket.sla_warn_at, levels, ticket.escalation_level)
    return happened


def _warn(ticket: DueTicket, kind: str, due: datetime, now: datetime) -> Happening:
    return Happening(ticket_id=ticket.pk, kind=Notice.Kind.WARNING, target=kind, due=due)


def _escalate(ticket: DueTicket, level, kind: str, due: datetime, now: datetime) -> Happening:
    ticket.escalation_level = level.level
    ticket.escalated_at = ticket.escalated_at or now
    recipients = {
        "managers": level.notify_managers,
        "users": list(level.user_ids),
        "emails": list(level.emails),
    }
    return Happening(
        ticket_id=ticket.pk,
        kind=Notice.Kind.ESCALATION,
        target=kind,
        due=due,
        level=level.level,
        recipients=recipients,
    )


def _after_commit(notices: list[bulk.Recorded]) -> None:
    """Mail in chunks (a task renders ~NOTIFY_CHUNK notices), then the escalation hook per escalation."""
    from .tasks import notify

    ids = [n.pk for n in notices]
    try:
        for start in range(0, len(ids), NOTIFY_CHUNK):
            notify.delay(ids[start : start + NOTIFY_CHUNK])
    except Exception:  # broker down: the state is committed, notify_pending mails the notices later
        logger.exception("could not queue the SLA notify task; the beat safety net will send the notices")
    escalations = [n for n in notices if n.kind == Notice.Kind.ESCALATION]
    if escalations and not hooks.escalation_wanted():  # one query, not one per ticket
        escalations = []
    for notice in escalations:
        try:
            hooks.ticket_escalated(ticket_id=notice.ticket_id, level=notice.level, event_id=notice.event_id)
        except Exception:  # one failing hook must not cost the others theirs
            logger.exception("ticket_escalated hook failed for ticket %s", notice.ticket_id)


# --- Configuration (manager pages, admin) ------------------------------------------------------------


def _recompute_later(department_id: int) -> None:
    """Open tickets follow new targets, hours and levels; done in a task, a department may have thousands."""
    from .tasks import recompute_department

    transaction.on_commit(lambda: recompute_department.delay(department_id))


@transaction.atomic
def save_config(form):
    """Save a manager's SlaPolicy, BusinessHours, Holiday or EscalationLevel form."""
    obj = form.save()
    _recompute_later(obj.department_id)
    return obj


@transaction.atomic
def delete_config(obj) -> None:
    department_id = obj.department_id
    obj.delete()
    _recompute_later(department_id)
