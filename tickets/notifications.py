"""Mail that ticket changes cause. Called by services inside their transaction: each function only
writes outbox rows (mailgateway.outbound.queue_email); sending happens after commit."""

from django.conf import settings
from django.urls import reverse

from mailgateway.outbound import make_message_id, queue_email, render_email, render_when_sent

from .models import Message, Ticket, TicketEvent
from .tokens import rating_token, reply_address


def _customer_url(ticket: Ticket) -> str:
    return settings.SITE_URL + reverse("ticket_detail", args=[ticket.number])


def _thread_headers(ticket: Ticket, only: Message | None = None) -> tuple[str, str]:
    """In-Reply-To and References so mail clients thread our mail with the customer's. `only`: the
    ticket's single message so far (a new ticket), which spares the query."""
    if only is not None:
        ids = [only.message_id] if only.message_id else []
    else:
        ids = list(
            ticket.messages.exclude(message_id="").order_by("created_at").values_list("message_id", flat=True)
        )
    ids = [m if m.startswith("<") else f"<{m}>" for m in ids][-20:]
    return (ids[-1] if ids else ""), " ".join(ids)


def _customer_context(ticket: Ticket, message: Message | None, context: dict) -> dict:
    return {
        "ticket": ticket,
        "customer": ticket.customer,
        "url": _customer_url(ticket),
        "message": message,
        **context,
    }


def _to_customer(
    ticket: Ticket,
    template: str,
    key: str,
    context: dict,
    message: Message | None = None,
    cc=(),
    thread=None,
    when_sent: bool = False,
):
    """Queue mail to the ticket's customer; `when_sent`: rendered by the send task (a template registered
    with render_when_sent, its context built from the outbox row then), not now."""
    customer = ticket.customer
    if when_sent:
        subject = text = html = ""
    else:
        subject, text, html = render_email(
            template, _customer_context(ticket, message, context), customer.language, customer.time_zone
        )
    in_reply_to, references = _thread_headers(ticket, only=thread)
    message_id = make_message_id(f"t{ticket.number}")
    if message is not None and not message.message_id:
        # The reply's own Message-ID lets the customer's answer thread back by In-Reply-To.
        message.message_id = message_id.strip("<>")
        message.save(update_fields=["message_id"])
    return queue_email(
        kind=template,
        dedupe_key=f"{key}:{customer.email}",
        to=[customer.email],
        cc=list(cc),
        subject=subject,
        body_text=text,
        body_html=html,
        from_email=ticket.department.from_email,
        from_name=ticket.department.name,
        reply_to=reply_address(ticket.department.from_email, ticket.number),
        ticket=ticket,
        message=message,
        message_id=message_id,
        in_reply_to=in_reply_to,
        references=references,
        headers={"Auto-Submitted": "auto-generated"} if template != "agent_reply" else {},
        include_attachments=template == "agent_reply",
        template=template if when_sent else "",
        language=customer.language if when_sent else "",
        time_zone=customer.time_zone if when_sent else "",
    )


def _rating_url(ticket: Ticket, message: Message) -> str:
    token = rating_token(message.pk, ticket.customer_id)
    return settings.SITE_URL + reverse("rate_by_link", args=[message.pk, token])


def ticket_created(ticket: Ticket, message: Message) -> None:
    if ticket.department.send_acknowledgement:
        # Rendered when sent: the mail gateway acknowledges most of the tickets it creates.
        _to_customer(ticket, "ticket_created", f"created:{ticket.pk}", {}, thread=message, when_sent=True)


def _ticket_created_context(email) -> dict:
    from accounts.services import claim_url_if_needed

    ticket = Ticket.objects.select_related("customer", "department").get(pk=email.ticket_id)
    # A customer created from an email has no password yet: the acknowledgement lets him claim it.
    return _customer_context(ticket, None, {"claim_url": claim_url_if_needed(ticket.customer)})


render_when_sent("ticket_created", _ticket_created_context)


def agent_replied(ticket: Ticket, message: Message) -> None:
    cc = sorted(set(message.cc) | set(ticket.participants.values_list("email", flat=True)))
    context = {
        "signature": ticket.department.signature_for(ticket.customer.language),
        "rating_url": _rating_url(ticket, message),
    }
    _to_customer(ticket, "agent_reply", f"reply:{message.pk}", context, message, cc)


def status_changed(ticket: Ticket, event: TicketEvent) -> None:
    actor = event.actor
    if ticket.department.send_status_notifications and actor is not None and actor != ticket.customer:
        _to_customer(ticket, "status_changed", f"event:{event.pk}", {"old": event.data.get("old")})


def customer_replied(ticket: Ticket, message: Message) -> None:
    if ticket.assignee_id and ticket.assignee.is_active:
        _to_agents(
            ticket, [ticket.assignee], "customer_replied", f"custreply:{message.pk}", {"message": message}
        )


def ticket_assigned(ticket: Ticket, assignee, event: TicketEvent) -> None:
    _to_agents(ticket, [assignee], "ticket_assigned", f"event:{event.pk}", {"actor": event.actor})


def ticket_transferred(ticket: Ticket, event: TicketEvent) -> None:
    actor = event.actor
    agents = (
        ticket.department.memberships.filter(user__is_active=True).exclude(user=actor).select_related("user")
    )
    context = {"actor": actor, "reason": event.data.get("reason", "")}
    _to_agents(ticket, [m.user for m in agents], "ticket_transferred", f"event:{event.pk}", context)


def agents_mentioned(ticket: Ticket, message: Message, agents) -> None:
    context = {"actor": message.author, "message": message}
    _to_agents(ticket, agents, "agent_mentioned", f"mention:{message.pk}", context)


def _to_agents(ticket: Ticket, agents, template: str, key: str, context: dict) -> None:
    url = settings.SITE_URL + reverse("agent_ticket", args=[ticket.number])
    for agent in agents:
        ctx = {"ticket": ticket, "agent": agent, "url": url, **context}
        subject, text, html = render_email(template, ctx, agent.language, agent.time_zone)
        queue_email(
            kind=template,
            dedupe_key=f"{key}:{agent.email}",
            to=[agent.email],
            subject=subject,
            body_text=text,
            body_html=html,
            ticket=ticket,
            headers={"Auto-Submitted": "auto-generated"},
        )
