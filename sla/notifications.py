"""SLA mail: outbox rows written inside the sweep's transaction (sent after commit by the outbox task),
each rendered in its recipient's language and time zone. Dedupe keys name the ticket, the due time, the
level and the recipient, so even a replayed sweep cannot queue the same notification twice."""

from datetime import datetime

from django.conf import settings
from django.urls import reverse

from mailgateway.outbound import queue_email, render_email
from tickets.models import Ticket, TicketEvent

from .selectors import TARGET_LABELS


def _agent_url(ticket: Ticket) -> str:
    return settings.SITE_URL + reverse("agent_ticket", args=[ticket.number])


def _context(ticket: Ticket, kind: str, due: datetime, now: datetime) -> dict:
    return {
        "ticket": ticket,
        "customer": ticket.customer,
        "target": TARGET_LABELS[kind],
        "due": due,
        "now": now,
        "waiting_since": ticket.waiting_since or ticket.created_at,
        "url": _agent_url(ticket),
    }


def _send(ticket, template: str, key: str, email: str, language: str, time_zone: str, context: dict) -> None:
    subject, text, html = render_email(template, context, language, time_zone)
    queue_email(
        kind=template,
        dedupe_key=f"{key}:{email}",
        to=[email],
        subject=subject,
        body_text=text,
        body_html=html,
        ticket=ticket,
        headers={"Auto-Submitted": "auto-generated"},
    )


def sla_warning(ticket: Ticket, event: TicketEvent, users, kind: str, due: datetime, now: datetime) -> None:
    context = _context(ticket, kind, due, now)
    key = f"sla-warning:{ticket.pk}:{due.timestamp()}"
    for user in users:
        _send(ticket, "sla_warning", key, user.email, user.language, user.time_zone, {**context, "recipient": user})


def sla_escalated(
    ticket: Ticket, event: TicketEvent, users, emails: list[str], kind: str, due: datetime, now: datetime
) -> None:
    context = {**_context(ticket, kind, due, now), "level": event.data["level"]}
    key = f"sla-escalated:{ticket.pk}:{due.timestamp()}:{event.data['level']}"
    seen = set()
    for user in users:
        if user.email.lower() not in seen:
            seen.add(user.email.lower())
            _send(ticket, "sla_escalated", key, user.email, user.language, user.time_zone, {**context, "recipient": user})
    for email in emails:
        if email.lower() not in seen:
            seen.add(email.lower())
            _send(ticket, "sla_escalated", key, email, settings.LANGUAGE_CODE, "", {**context, "recipient": None})
