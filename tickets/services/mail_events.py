"""Things the mail gateway records on a ticket without it being a conversation message."""

from django.db import transaction

from ..models import Ticket, TicketEvent, TicketLink
from .common import lock, record


@transaction.atomic
def ticket_record_mail_event(*, ticket: Ticket, kind: str, **data) -> TicketEvent:
    """An auto-reply, a bounce or a held message, shown to agents in the ticket's history. It does
    not touch the status or the SLA clocks: nobody answered, so nothing is due."""
    ticket = lock(ticket)
    return record(ticket, kind, **data)


@transaction.atomic
def ticket_link_follow_up(*, ticket: Ticket, previous: Ticket) -> TicketLink:
    """Link a new ticket to the old, closed one it follows up (a reply that came too late to reopen)."""
    link, _ = TicketLink.objects.get_or_create(source=ticket, target=previous, kind=TicketLink.Kind.FOLLOW_UP)
    return link
