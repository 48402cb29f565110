"""Reads for templates: delivery status of outgoing mail, quoted-text display, originals."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q

from tickets.models import Message, Ticket

from .models import InboundEmail, OutboundEmail
from .quoting import split_quoted, split_quoted_html
from .sanitize import sanitize_html


def delivery_status(ticket: Ticket) -> list[OutboundEmail]:
    """Customer-facing mail of a ticket that has not (yet) gone out, for the agent view: a failed
    send must be visible on the ticket, not only in the admin."""
    return list(
        OutboundEmail.objects.filter(ticket=ticket)
        .exclude(status=OutboundEmail.Status.SENT)
        .only("kind", "to", "status", "attempts", "last_error", "next_attempt_at", "created_at", "message_id")
        .order_by("created_at")
    )


def message_delivery(message_ids) -> dict[int, OutboundEmail]:
    """Latest outbox row per message id, for a badge next to each agent reply."""
    rows = OutboundEmail.objects.filter(message_id__in=list(message_ids)).order_by("created_at")
    return {row.message_id: row for row in rows}


@dataclass(frozen=True)
class DisplayBody:
    new: str
    quoted: str
    new_html: str = ""
    quoted_html: str = ""


def display_body(message: Message) -> DisplayBody:
    """The new part of a message and the quoted history, collapsed in the timeline (never dropped:
    the stored body and the original .eml keep everything)."""
    new, quoted = split_quoted(message.body_text or "")
    new_html = quoted_html = ""
    if message.body_html:
        head, tail = split_quoted_html(html_with_inline_images(message))
        # Cutting HTML can leave tags unbalanced; the sanitizer re-balances each half.
        new_html, quoted_html = sanitize_html(head), sanitize_html(tail)
    return DisplayBody(new=new, quoted=quoted, new_html=new_html, quoted_html=quoted_html)


def messages_with_original(ticket: Ticket) -> set[int]:
    """Ids of the ticket's messages that came by mail and have a stored original."""
    return set(
        InboundEmail.objects.filter(message__ticket=ticket, message__isnull=False).values_list("message_id", flat=True)
    )


def html_with_inline_images(message: Message) -> str:
    """The message's (already sanitized) HTML with cid: images pointing at their stored attachments,
    which are served through the permission-checked attachment view."""
    from tickets.message_body import inline_images

    return inline_images(message.body_html or "", message)


def held_mail(ticket: Ticket) -> list[InboundEmail]:
    """Mail from unknown senders that threads into this ticket, waiting for an agent's decision."""
    return list(
        InboundEmail.objects.filter(ticket=ticket, status=InboundEmail.Status.HELD)
        .only("pk", "subject", "from_email", "received_at")
        .order_by("received_at")
    )


def held_mail_and_originals(ticket: Ticket, message_ids) -> tuple[list[InboundEmail], set[int]]:
    """held_mail(ticket) and messages_with_original(ticket) in one query, for the agent's ticket page,
    which has loaded the ticket's messages (`message_ids`) already."""
    ids = set(message_ids)
    condition = Q(ticket=ticket, status=InboundEmail.Status.HELD)
    if ids:
        condition |= Q(message_id__in=ids)
    rows = list(
        InboundEmail.objects.filter(condition)
        .only("pk", "subject", "from_email", "received_at", "status", "ticket_id", "message_id")
        .order_by("received_at")
    )
    held = [r for r in rows if r.status == InboundEmail.Status.HELD and r.ticket_id == ticket.pk]
    return held, {r.message_id for r in rows if r.message_id in ids}

