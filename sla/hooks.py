"""Extension points of the SLA sweep, called after its transaction has committed."""

from django.db import transaction


def escalation_wanted() -> bool:
    """Whether anything listens for escalations (one query per sweep, so idle hooks cost nothing per ticket)."""
    from webhooks.models import Event, WebhookEndpoint

    return any(Event.ESCALATED in events for events in WebhookEndpoint.objects.filter(is_active=True).values_list("events", flat=True))


def ticket_escalated(*, ticket_id: int, level: int, event_id: int) -> None:
    """A ticket reached escalation `level` (its TicketEvent is `event_id`). Called once per level reached,
    after commit, in the sweep's process: keep it quick (queue a task for anything slow). A worker killed
    between the commit and this call skips it; the durable record is the TicketEvent and the sla.Notice."""
    from tickets.models import Ticket, TicketEvent
    from webhooks import events as webhook_events

    with transaction.atomic():  # the delivery rows are written durably, then POSTed after this commit
        ticket = Ticket.objects.filter(pk=ticket_id).first()
        if ticket is None:
            return
        event = TicketEvent.objects.filter(pk=event_id).only("data").first()
        target = (event.data or {}).get("target", "") if event else ""
        webhook_events.ticket_escalated(ticket, level=level, target=target)
