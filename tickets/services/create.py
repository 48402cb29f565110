from collections.abc import Iterable, Sequence

from django.db import connection, transaction
from django.utils import timezone

from departments.models import Department
from helpdesk_site.rowsql import insert_row
from sla.services import recompute as sla_recompute  # SLA clocks follow every change (sla app)

from .. import notifications
from ..attachments import IncomingFile
from ..choices import Channel
from ..models import Message, Participant, Product, Ticket, TicketEvent
from ..numbering import NEXT_NUMBER_SQL, next_ticket_number
from .common import add_message, check_files, record


def ticket_create(
    *,
    customer,
    department: Department,
    subject: str,
    body_text: str,
    body_html: str = "",
    channel: str = Channel.WEB,
    author=None,
    product: Product | None = None,
    fields: dict | None = None,
    priority: int | None = None,
    files: Iterable[IncomingFile] = (),
    cc: Sequence[str] = (),
    message_id: str = "",
    in_reply_to: str = "",
    references: str = "",
    acknowledge: bool = True,
) -> Ticket:
    """Open a ticket with its first customer message. `author` differs from `customer` when an agent or
    the API files it on the customer's behalf."""
    checked = check_files(files)  # may refuse a file: before the transaction, which stays usable
    # No savepoint of its own (two round trips per ticket): views run it as their transaction, the mail
    # gateway holds a savepoint per message around it; a failure in here rolls back the caller's block.
    with transaction.atomic(savepoint=False):
        now = timezone.now()
        ticket = Ticket(
            subject=(subject.strip() or "(no subject)")[:255],
            customer=customer,
            department=department,
            priority=priority or department.default_priority,
            product=product,
            fields=fields or {},
            channel=channel,
            waiting_since=now,
            created_at=now,
            updated_at=now,
        )
        # SLA clocks before the INSERT: they go into the same statement instead of an UPDATE after it.
        sla_recompute(ticket, now, save=False)
        _insert(ticket)
        message = add_message(
            ticket,
            kind=Message.Kind.CUSTOMER,
            author=author or customer,
            body_text=body_text,
            body_html=body_html,
            channel=channel,
            files=checked,
            cc=list(cc),
            message_id=message_id,
            in_reply_to=in_reply_to,
            references=references,
        )
        for email in {c.lower() for c in cc} - {customer.email.lower()}:
            Participant.objects.create(ticket=ticket, email=email)
        record(ticket, TicketEvent.Kind.CREATED, actor=author or customer, channel=channel)
        ticket.opening_message = message  # callers (the mail gateway) need it; saves re-reading it
        if acknowledge:
            notifications.ticket_created(ticket, message)
    return ticket


def _insert(ticket: Ticket) -> None:
    """One statement: on PostgreSQL the INSERT takes its number from the sequence itself."""
    if connection.vendor == "postgresql":
        insert_row(ticket, computed={"number": NEXT_NUMBER_SQL})
    else:
        ticket.number = next_ticket_number()
        insert_row(ticket)
