from collections.abc import Iterable

from django.db import transaction

from ..models import Participant, Ticket, TicketEvent
from .common import lock, record


@transaction.atomic
def ticket_add_participants(*, ticket: Ticket, emails: Iterable[str], actor=None) -> list[str]:
    """Add Cc'd people to the conversation. The customer is never added (nor replaced): a participant
    only receives replies as Cc and may write into the ticket. Returns the addresses added."""
    ticket = lock(ticket)
    existing = {e.lower() for e in ticket.participants.values_list("email", flat=True)}
    existing.add(ticket.customer.email.lower())
    added = sorted({e.strip().lower() for e in emails if e.strip()} - existing)
    for email in added:
        Participant.objects.create(ticket=ticket, email=email)
    if added:
        record(ticket, TicketEvent.Kind.PARTICIPANT, actor=actor, added=added)
    return added


@transaction.atomic
def ticket_remove_participant(*, ticket: Ticket, email: str, actor=None) -> bool:
    """Stop copying someone on replies. His later mail is then held like a stranger's."""
    ticket = lock(ticket)
    deleted, _ = ticket.participants.filter(email__iexact=email.strip()).delete()
    if deleted:
        record(ticket, TicketEvent.Kind.PARTICIPANT, actor=actor, removed=[email.strip().lower()])
    return bool(deleted)
