"""What ticket changes tell webhook receivers. Called by tickets.services (and the SLA sweep) inside their
transaction: each function only writes WebhookDelivery rows for the subscribed endpoints, with the
payload as of the change; the HTTP POSTs happen after commit (delivery.py). With no endpoint configured
for the department this costs one query."""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from tickets.memo import per_batch

from .models import Event, WebhookDelivery, WebhookEndpoint

# TicketEvent kinds that are webhook events.
EVENT_FOR_KIND = {
    "created": Event.TICKET_CREATED,
    "status": Event.STATUS_CHANGED,
    "reopened": Event.STATUS_CHANGED,
    "assigned": Event.ASSIGNED,
    "transferred": Event.TRANSFERRED,
}


def event_recorded(event) -> None:
    """A TicketEvent was written (tickets.services.common.record)."""
    name = EVENT_FOR_KIND.get(event.kind)
    if name is None:
        return
    ticket = event.ticket
    departments = {ticket.department_id}
    if name == Event.TRANSFERRED:  # the department it left hears about it too
        departments.add(event.data.get("old"))
    endpoints = _subscribed(name, departments)
    if not endpoints:
        return
    data = {k: v for k, v in event.data.items() if k in ("old", "new", "reason", "channel")}
    if event.kind == "reopened":
        data["new"] = ticket.status
    if name == Event.TICKET_CREATED:
        first = ticket.messages.order_by("pk").first()
        data["message"] = _message(first) if first else None
    if name == Event.TRANSFERRED:
        data.update(_department_slugs(data))
    _queue(endpoints, name, ticket, data, actor=event.actor)


def message_added(message) -> None:
    """A customer message, agent reply or internal note (tickets.services.conversation)."""
    if message.kind not in ("customer", "reply", "note"):
        return
    endpoints = _subscribed(Event.MESSAGE_CREATED, {message.ticket.department_id})
    if message.kind == "note":
        endpoints = [e for e in endpoints if e.include_internal_notes]
    if endpoints:
        _queue(endpoints, Event.MESSAGE_CREATED, message.ticket, {"message": _message(message)}, actor=message.author)


def ticket_escalated(ticket, *, level: int, target: str = "") -> None:
    """The SLA sweep escalated the ticket (sla.services)."""
    endpoints = _subscribed(Event.ESCALATED, {ticket.department_id})
    if endpoints:
        _queue(endpoints, Event.ESCALATED, ticket, {"level": level, "target": target}, actor=None)


# --- Building and queueing ---------------------------------------------------------------------------


@per_batch  # the mail gateway reads the (short) endpoint list once per batch, not once per event
def _active_endpoints() -> tuple[WebhookEndpoint, ...]:
    return tuple(WebhookEndpoint.objects.filter(is_active=True))


def _subscribed(name: str, department_ids) -> list[WebhookEndpoint]:
    # Filtered in Python: JSON containment differs between PostgreSQL and SQLite, and the list is short.
    wanted = {d for d in department_ids if d}
    return [
        e for e in _active_endpoints() if name in e.events and (e.department_id is None or e.department_id in wanted)
    ]


def _queue(endpoints, name: str, ticket, data: dict, *, actor) -> None:
    from .tasks import deliver

    payload = {
        "event": name,
        "occurred_at": timezone.now().isoformat(),
        "ticket": _ticket(ticket),
        "actor": _user(actor),
        "data": data,
    }
    for endpoint in endpoints:
        delivery = WebhookDelivery.objects.create(
            endpoint=endpoint, event=name, ticket=ticket, payload=payload, next_attempt_at=timezone.now()
        )
        transaction.on_commit(lambda pk=delivery.pk: deliver.delay(pk))


def _ticket(ticket) -> dict:
    return {
        "number": ticket.number,
        "reference": ticket.reference,
        "subject": ticket.subject,
        "status": ticket.status,
        "priority": ticket.priority,
        "channel": ticket.channel,
        "department": ticket.department.slug,
        "customer": {"id": ticket.customer_id, "email": ticket.customer.email, "name": ticket.customer.name},
        "assignee": _user(ticket.assignee),
        "created_at": ticket.created_at.isoformat() if ticket.created_at else None,
        "url": settings.SITE_URL + reverse("agent_ticket", args=[ticket.number]),
        "api_url": settings.SITE_URL + reverse("api:ticket-detail", args=[ticket.number]),
    }


def _message(message) -> dict:
    return {
        "id": message.pk,
        "kind": message.kind,
        "channel": message.channel,
        "author": _user(message.author),
        "body_text": message.body_text,
        "created_at": message.created_at.isoformat(),
        "attachments": [
            {"id": a.pk, "filename": a.filename, "content_type": a.content_type, "size": a.size}
            for a in message.attachments.all()
        ],
    }


def _user(user) -> dict | None:
    if user is None:
        return None
    return {"id": user.pk, "email": user.email, "name": user.name}


def _department_slugs(data: dict) -> dict:
    from departments.models import Department

    slugs = dict(Department.objects.filter(pk__in=[data.get("old"), data.get("new")]).values_list("pk", "slug"))
    return {"old": slugs.get(data.get("old")), "new": slugs.get(data.get("new"))}
