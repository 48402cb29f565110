"""The only code that changes SLA state: recompute() after every ticket change (called by tickets.services
inside their transaction), the sweep (Celery beat) that sends warnings and escalations, and configuration
changes made by managers."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from tickets.models import Ticket, TicketEvent
from webhooks import events as webhook_events

from . import notifications
from .business_hours import NeverOpen
from .clock import (
    RUNNING_STATUSES,
    clock_runs,
    earliest_due_at,
    first_due,
    next_check,
    next_level,
    settle_resolution_clock,
)
from .clock import due_times as compute_due_times
from .selectors import DUE_FIELDS, calendar_for, department_agents, levels_for, managers, policy_for

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
SWEEP_BATCH = 200
RETRY_AFTER = timedelta(minutes=5)  # a ticket whose notification failed to render is retried later


# --- Recompute -------------------------------------------------------------------------------------


def recompute(ticket: Ticket, now: datetime | None = None) -> None:
    """Bring the ticket's due times, pending warning and next sweep time in line with its state and its
    department's policy. Call with the row locked, inside the transaction that changed it."""
    now = now or timezone.now()
    policy = policy_for(ticket.department_id, ticket.priority)
    calendar = calendar_for(ticket.department_id) if policy is not None and policy.business_hours else None
    try:
        apply_clocks(ticket, policy, calendar, now)
    except NeverOpen:
        # A calendar closed for years (misconfigured holidays) must not stop the ticket's change.
        logger.warning("department %s has no business hours ahead; using calendar time", ticket.department_id)
        apply_clocks(ticket, policy, None, now)
    ticket.save(update_fields=SLA_FIELDS)


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
    """Send the warnings and escalations that are due. Safe to run concurrently and to kill at any
    point: rows are claimed with FOR UPDATE SKIP LOCKED and the notification, its outbox rows and the new
    ticket state commit together, so each notification is sent exactly once."""
    now = now or timezone.now()
    total = 0
    while True:
        done = sweep_batch(now, batch)
        total += done
        if done < batch:
            return total


def due_for_sweep(now: datetime, batch: int):
    """The claim query: only rows whose sla_check_at has come (partial index ticket_sla_check_idx)."""
    return (
        Ticket.objects.select_for_update(skip_locked=True, of=("self",))
        .filter(sla_check_at__lte=now)
        .select_related("department", "customer", "assignee")
        .order_by("sla_check_at")[:batch]
    )


@transaction.atomic
def sweep_batch(now: datetime, batch: int = SWEEP_BATCH) -> int:
    tickets = list(due_for_sweep(now, batch))
    levels: dict[int, tuple] = {}
    staff: dict[int, list] = {}  # department -> managers, read once per batch
    for ticket in tickets:
        if ticket.department_id not in levels:
            levels[ticket.department_id] = levels_for(ticket.department_id)
        try:
            with transaction.atomic():
                process_due(ticket, now, levels[ticket.department_id], staff)
        except Exception:
            logger.exception("SLA sweep failed for ticket %s; retrying later", ticket.pk)
            Ticket.objects.filter(pk=ticket.pk).update(sla_check_at=now + RETRY_AFTER)
    return len(tickets)


def process_due(ticket: Ticket, now: datetime, levels, staff: dict | None = None) -> None:
    if not clock_runs(ticket):  # only a row written around the services (raw SQL) can get here
        ticket.sla_check_at = None
        ticket.save(update_fields=["sla_check_at"])
        return
    due = earliest_due_at(ticket)
    kind = _due_kind(ticket, due)
    if ticket.sla_warn_at is not None and ticket.sla_warn_at <= now:
        if due is not None and due > now:  # once breached, the escalation says it instead
            _warn(ticket, kind, due, now)
        ticket.sla_warn_at = None
    level = next_level(levels, ticket.escalation_level)
    while due is not None and level is not None and due + level.after <= now:
        _escalate(ticket, level, kind, due, now, {} if staff is None else staff)
        level = next_level(levels, ticket.escalation_level)
    ticket.sla_check_at = next_check(ticket, levels)
    # Not updated_at: a warning is not activity on the ticket.
    ticket.save(update_fields=["sla_warn_at", "escalated_at", "escalation_level", "sla_check_at"])


def _due_kind(ticket: Ticket, due) -> str:
    return next((k for k, f in DUE_FIELDS.items() if getattr(ticket, f) == due), "resolution")


def _warn(ticket: Ticket, kind: str, due: datetime, now: datetime) -> None:
    event = TicketEvent.objects.create(
        ticket=ticket, kind=TicketEvent.Kind.SLA_WARNING, data={"target": kind, "due": due.isoformat()}
    )
    recipients = [ticket.assignee] if ticket.assignee and ticket.assignee.is_active else None
    notifications.sla_warning(ticket, event, recipients or department_agents(ticket.department_id), kind, due, now)


def _escalate(ticket: Ticket, level, kind: str, due: datetime, now: datetime, staff: dict) -> None:
    ticket.escalation_level = level.level
    ticket.escalated_at = ticket.escalated_at or now
    event = TicketEvent.objects.create(
        ticket=ticket,
        kind=TicketEvent.Kind.ESCALATED,
        data={"level": level.level, "target": kind, "due": due.isoformat()},
    )
    if level.notify_managers and ticket.department_id not in staff:
        staff[ticket.department_id] = managers(ticket.department_id)
    users = list(staff[ticket.department_id]) if level.notify_managers else []
    if level.user_ids:
        users += list(User.objects.filter(pk__in=level.user_ids, is_active=True))
    notifications.sla_escalated(ticket, event, users, list(level.emails), kind, due, now)
    webhook_events.ticket_escalated(ticket, level=level.level, target=kind)


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
