"""Split one message of a conversation into a new ticket.

The message is COPIED, not moved: the original conversation stays intact (what the customer saw and
what replies quoted keeps making sense), and the new ticket starts with an identical copy. Attachments
are copied as new rows that point at the same content-addressed stored file, so no bytes are duplicated.
"""

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from departments.models import Department
from sla.services import recompute as sla_recompute  # SLA clocks follow every change (sla app)

from ..choices import Status
from ..exceptions import TicketError
from ..models import Attachment, Message, Ticket, TicketEvent, TicketLink
from ..numbering import next_ticket_number
from .common import lock, record, touch


class SplitNotAllowed(TicketError):
    default_message = _("This message cannot be split into a new ticket.")


@transaction.atomic
def ticket_split(
    *, ticket: Ticket, message: Message, actor, department: Department, subject: str = ""
) -> Ticket:
    """A new ticket (same customer, chosen department) starting with a copy of `message`; both linked."""
    ticket = lock(ticket)
    if message.ticket_id != ticket.pk or message.kind == Message.Kind.EVENT or not department.is_active:
        raise SplitNotAllowed
    waiting = message.created_at if message.kind == Message.Kind.CUSTOMER else None
    new = Ticket.objects.create(
        number=next_ticket_number(),
        subject=(subject.strip() or ticket.subject)[:255],
        customer=ticket.customer,
        department=department,
        priority=ticket.priority,
        product=ticket.product,
        channel=message.channel,
        status=Status.NEW,
        waiting_since=waiting,
    )
    copy = _copy_message(message, new)
    TicketLink.objects.create(source=new, target=ticket, kind=TicketLink.Kind.SPLIT)
    record(new, TicketEvent.Kind.SPLIT, actor=actor, origin=ticket.number, message=message.pk, copy=copy.pk)
    record(ticket, TicketEvent.Kind.SPLIT, actor=actor, into=new.number, message=message.pk, copy=copy.pk)
    touch(ticket)
    sla_recompute(new)
    return new


def _copy_message(message: Message, ticket: Ticket) -> Message:
    copy = Message.objects.create(
        ticket=ticket,
        kind=message.kind,
        channel=message.channel,
        author=message.author,
        body_text=message.body_text,
        body_html=message.body_html,
        shown_html=message.shown_html,
        quoted_html=message.quoted_html,
        cc=message.cc,
    )
    # Keep the original time: the copy is the same message, not a new one.
    Message.objects.filter(pk=copy.pk).update(created_at=message.created_at)
    Attachment.objects.bulk_create(
        Attachment(
            message=copy,
            file=a.file.name,
            sha256=a.sha256,
            filename=a.filename,
            content_type=a.content_type,
            size=a.size,
            content_id=a.content_id,
            is_inline=a.is_inline,
        )
        for a in message.attachments.all()
    )
    return copy
