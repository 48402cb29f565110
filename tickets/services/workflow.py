from django.db import transaction
from django.utils import timezone

from departments.models import Department, Membership
from sla.services import recompute as sla_recompute  # SLA clocks follow every change (sla app)

from .. import notifications
from ..choices import Status
from ..exceptions import AssignmentNotAllowed, TransferNotAllowed
from ..models import Product, Ticket, TicketEvent
from . import report_times
from .common import lock, record, touch
from .conversation import _stamp_status_times


def _is_member(user, department_id: int) -> bool:
    return Membership.objects.filter(user=user, department_id=department_id, user__is_active=True).exists()


@transaction.atomic
def ticket_assign(*, ticket: Ticket, actor, assignee) -> Ticket:
    """Assign to an active agent of the ticket's department, or unassign with assignee=None."""
    ticket = lock(ticket)
    if assignee is not None and not _is_member(assignee, ticket.department_id):
        raise AssignmentNotAllowed
    if ticket.assignee_id == (assignee.pk if assignee else None):
        return ticket
    event = record(
        ticket, TicketEvent.Kind.ASSIGNED, actor=actor, old=ticket.assignee_id, new=assignee.pk if assignee else None
    )
    ticket.assignee = assignee
    touch(ticket, "assignee")
    if assignee is not None and assignee != actor:
        notifications.ticket_assigned(ticket, assignee, event)
    return ticket


@transaction.atomic
def ticket_set_status(*, ticket: Ticket, actor, status: str) -> Ticket:
    ticket = lock(ticket)
    if ticket.status == status:
        return ticket
    old = ticket.status
    ticket.status = status
    now = timezone.now()
    _stamp_status_times(ticket, now)
    report_times.on_status(ticket, actor, now)
    if status in (Status.RESOLVED, Status.CLOSED):
        ticket.waiting_since = None
    event = record(ticket, TicketEvent.Kind.STATUS, actor=actor, old=old, new=status)
    touch(ticket, "status", "resolved_at", "closed_at", "waiting_since", *report_times.TICKET_FIELDS)
    sla_recompute(ticket, ticket.updated_at)
    notifications.status_changed(ticket, event)
    return ticket


def ticket_close(*, ticket: Ticket, actor) -> Ticket:
    return ticket_set_status(ticket=ticket, actor=actor, status=Status.CLOSED)


def ticket_reopen(*, ticket: Ticket, actor) -> Ticket:
    return ticket_set_status(ticket=ticket, actor=actor, status=Status.OPEN)


@transaction.atomic
def ticket_set_priority(*, ticket: Ticket, actor, priority: int) -> Ticket:
    ticket = lock(ticket)
    if ticket.priority != priority:
        record(ticket, TicketEvent.Kind.PRIORITY, actor=actor, old=ticket.priority, new=priority)
        ticket.priority = priority
        touch(ticket, "priority")
        sla_recompute(ticket, ticket.updated_at)
    return ticket


@transaction.atomic
def ticket_rename(*, ticket: Ticket, actor, subject: str) -> Ticket:
    ticket = lock(ticket)
    subject = subject.strip()[:255]
    if subject and subject != ticket.subject:
        record(ticket, TicketEvent.Kind.SUBJECT, actor=actor, old=ticket.subject, new=subject)
        ticket.subject = subject
        touch(ticket, "subject")
    return ticket


@transaction.atomic
def ticket_set_product(*, ticket: Ticket, actor, product: Product | None) -> Ticket:
    ticket = lock(ticket)
    if ticket.product_id != (product.pk if product else None):
        record(ticket, TicketEvent.Kind.PRODUCT, actor=actor, old=ticket.product_id, new=product.pk if product else None)
        ticket.product = product
        touch(ticket, "product")
    return ticket


@transaction.atomic
def ticket_transfer(*, ticket: Ticket, actor, department: Department, reason: str = "") -> Ticket:
    """Move the ticket to another department; its agents are notified. The assignee is kept only if
    he also works in the new department."""
    ticket = lock(ticket)
    if department.pk == ticket.department_id or not department.is_active:
        raise TransferNotAllowed
    old_department_id = ticket.department_id
    ticket.department = department
    if ticket.assignee_id and not _is_member(ticket.assignee, department.pk):
        ticket.assignee = None
    event = record(
        ticket, TicketEvent.Kind.TRANSFERRED, actor=actor, old=old_department_id, new=department.pk, reason=reason
    )
    touch(ticket, "department", "assignee")
    sla_recompute(ticket, ticket.updated_at)
    notifications.ticket_transferred(ticket, event)
    return ticket
