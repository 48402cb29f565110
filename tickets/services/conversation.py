from collections.abc import Iterable, Sequence

from django.db import transaction
from django.utils import timezone

from sla.services import recompute as sla_recompute  # SLA clocks follow every change (sla app)
from webhooks import events as webhook_events

from .. import notifications
from ..attachments import IncomingFile
from ..choices import DONE_STATUSES, Channel, Status
from ..mentions import resolve_mentions
from ..models import Message, Ticket, TicketEvent
from . import report_times
from .common import add_message, check_files, lock, record, touch


def ticket_customer_message(
    *,
    ticket: Ticket,
    author,
    body_text: str,
    body_html: str = "",
    channel: str = Channel.WEB,
    files: Iterable[IncomingFile] = (),
    message_id: str = "",
    in_reply_to: str = "",
    references: str = "",
    cc: Sequence[str] = (),
) -> Message:
    """A message from the customer (or a participant). Reopens a resolved or closed ticket."""
    checked = check_files(files)  # may refuse a file: before the transaction, which stays usable
    # No savepoint of its own, like ticket_create: the mail gateway calls it once per incoming mail.
    with transaction.atomic(savepoint=False):
        ticket = lock(ticket)
        message = add_message(
            ticket,
            kind=Message.Kind.CUSTOMER,
            author=author,
            body_text=body_text,
            body_html=body_html,
            channel=channel,
            files=checked,
            message_id=message_id,
            in_reply_to=in_reply_to,
            references=references,
            cc=list(cc),
        )
        old = ticket.status
        if old in DONE_STATUSES:
            ticket.status = Status.OPEN
            ticket.resolved_at = ticket.closed_at = None
            report_times.on_status(ticket, author, message.created_at)
            record(ticket, TicketEvent.Kind.REOPENED, actor=author, old=old)
        elif old == Status.PENDING:
            ticket.status = Status.OPEN
            record(ticket, TicketEvent.Kind.STATUS, actor=author, old=old, new=Status.OPEN)
        ticket.waiting_since = ticket.waiting_since or message.created_at
        sla_changed = sla_recompute(ticket, message.created_at, save=False)
        touch(
            ticket, "status", "resolved_at", "closed_at", "waiting_since", *report_times.TICKET_FIELDS, *sla_changed
        )  # one UPDATE
        notifications.customer_replied(ticket, message)
        webhook_events.message_added(message)
    return message


@transaction.atomic
def ticket_reply(
    *,
    ticket: Ticket,
    author,
    body_text: str,
    body_html: str = "",
    status: str = Status.PENDING,
    channel: str = Channel.WEB,
    files: Iterable[IncomingFile] = (),
    cc: Sequence[str] = (),
) -> Message:
    """An agent's answer: stored and mailed to the customer and participants (after commit)."""
    checked = check_files(files)
    ticket = lock(ticket)
    message = add_message(
        ticket,
        kind=Message.Kind.REPLY,
        author=author,
        body_text=body_text,
        body_html=body_html,
        channel=channel,
        files=checked,
        cc=list(cc),
    )
    report_times.on_agent_message(ticket, message)  # before first_response_at and waiting_since change
    now = timezone.now()
    ticket.first_response_at = ticket.first_response_at or now
    ticket.waiting_since = None
    if status != ticket.status:
        record(ticket, TicketEvent.Kind.STATUS, actor=author, old=ticket.status, new=status)
        ticket.status = status
        _stamp_status_times(ticket, now)
        report_times.on_status(ticket, author, now)
    touch(
        ticket,
        "first_response_at",
        "waiting_since",
        "status",
        "resolved_at",
        "closed_at",
        *report_times.TICKET_FIELDS,
    )
    sla_recompute(ticket, now)
    notifications.agent_replied(ticket, message)
    webhook_events.message_added(message)
    return message


@transaction.atomic
def ticket_note(*, ticket: Ticket, author, body_text: str, files: Iterable[IncomingFile] = ()) -> Message:
    """An internal note: visible to the department's agents only, never mailed to the customer."""
    checked = check_files(files)
    ticket = lock(ticket)
    message = add_message(ticket, kind=Message.Kind.NOTE, author=author, body_text=body_text, files=checked)
    report_times.on_agent_message(ticket, message)
    touch(ticket)
    mentioned = [u for u in resolve_mentions(ticket.department_id, body_text) if u != author]
    if mentioned:
        notifications.agents_mentioned(ticket, message, mentioned)
    webhook_events.message_added(message)
    return message


def _stamp_status_times(ticket: Ticket, now) -> None:
    if ticket.status == Status.RESOLVED:
        ticket.resolved_at = ticket.resolved_at or now
    elif ticket.status == Status.CLOSED:
        ticket.resolved_at = ticket.resolved_at or now
        ticket.closed_at = now
    else:
        ticket.resolved_at = ticket.closed_at = None
