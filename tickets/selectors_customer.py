"""Reads for the customer cabinet: own tickets only, with unread agent replies marked."""

from datetime import timedelta

from django.db.models import BooleanField, Exists, ExpressionWrapper, F, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from accounts.models import TicketReadMark
from search.selectors import public_text_condition

from .models import Message, Ticket


def cabinet_tickets(*, user, text: str = "") -> QuerySet[Ticket]:
    """The customer's tickets, newest activity first, annotated with has_unread; `text` searches the
    subject, the reference number and the public messages (never internal notes)."""
    last_reply = Message.objects.filter(ticket=OuterRef("pk"), kind=Message.Kind.REPLY).order_by(
        "-created_at"
    )
    seen = TicketReadMark.objects.filter(ticket=OuterRef("pk"), user=user).values("seen_at")[:1]
    qs = (
        Ticket.objects.filter(customer=user)
        .select_related("department")
        .annotate(last_reply_at=Subquery(last_reply.values("created_at")[:1]), seen_at=Subquery(seen))
        .annotate(
            has_unread=ExpressionWrapper(
                Q(last_reply_at__isnull=False)
                & (Q(seen_at__isnull=True) | Q(last_reply_at__gt=F("seen_at"))),
                output_field=BooleanField(),
            )
        )
    )
    text = text.strip()
    if text:
        qs = qs.filter(_text_filter(text))
    return qs.order_by("-updated_at", "-pk")


def _text_filter(text: str) -> Q:
    in_messages = Message.objects.filter(
        ticket=OuterRef("pk"), kind__in=Message.PUBLIC_KINDS, body_text__icontains=text
    )
    q = Q(subject__icontains=text) | Q(Exists(in_messages))
    words = public_text_condition(text)  # any form of the words, where full-text search is available
    if words is not None:
        q |= words
    number = text.lstrip("#")
    if number.isdigit():
        q |= Q(number=int(number))
    return q


def recent_ticket_count(customer, *, within: timedelta = timedelta(hours=1)) -> int:
    return Ticket.objects.filter(customer=customer, created_at__gte=timezone.now() - within).count()
