"""Reads. Every list read costs a constant number of queries (select_related / prefetch_related)."""

from django.db.models import QuerySet

from departments.permissions import visible_tickets

from .models import Attachment, Message, Ticket, TicketEvent

QUEUES = ("active", "new", "open", "pending", "mine", "unassigned", "escalated", "closed")


def ticket_queue(*, user, department=None, queue: str = "active") -> QuerySet[Ticket]:
    qs = visible_tickets(user).select_related("customer", "department", "assignee")
    if department is not None:
        qs = qs.filter(department=department)
    filters = {
        "active": lambda q: q.active(),
        "new": lambda q: q.filter(status="new"),
        "open": lambda q: q.filter(status="open"),
        "pending": lambda q: q.filter(status="pending"),
        "mine": lambda q: q.active().filter(assignee=user),
        "unassigned": lambda q: q.active().unassigned(),
        "escalated": lambda q: q.escalated(),
        "closed": lambda q: q.recently_closed(),
    }
    return filters.get(queue, filters["active"])(qs).order_by("-updated_at", "-pk")


def customer_tickets(*, user) -> QuerySet[Ticket]:
    return Ticket.objects.filter(customer=user).select_related("department").order_by("-updated_at", "-pk")


def conversation(ticket: Ticket, *, include_internal: bool) -> list:
    """Messages (and, for agents, internal notes and events) in time order, with authors and files."""
    kinds = [k for k in Message.Kind.values if include_internal or k in Message.PUBLIC_KINDS]
    messages = list(ticket.messages.filter(kind__in=kinds).select_related("author", "rating"))
    _attach_files(messages)
    if not include_internal:
        return messages
    events = list(ticket.events.select_related("actor"))
    return sorted(messages + events, key=lambda item: (item.created_at, isinstance(item, TicketEvent), item.pk))


def _attach_files(messages: list[Message]) -> None:
    """Each message's attachments as `.attachment_list`, in one query. (prefetch_related builds a related
    manager per message, and `.attachments.all()` another at every access: ~1.5 ms for 50 messages.)"""
    by_message = {m.pk: [] for m in messages}
    if by_message:
        for attachment in Attachment.objects.filter(message_id__in=list(by_message)).order_by("pk"):
            by_message[attachment.message_id].append(attachment)
    for message in messages:
        message.attachment_list = by_message[message.pk]


def attachment_for_user(*, user, pk: int) -> Attachment:
    """An attachment the user may download: on a visible ticket, and not on an internal note for customers."""
    from django.http import Http404

    from departments.permissions import is_agent

    qs = Attachment.objects.select_related("message__ticket").filter(
        message__ticket__in=visible_tickets(user).values("pk")
    )
    if not is_agent(user):
        qs = qs.filter(message__kind__in=Message.PUBLIC_KINDS)
    try:
        return qs.get(pk=pk)
    except Attachment.DoesNotExist as exc:
        raise Http404 from exc
