from django.shortcuts import render

from mailgateway.selectors import delivery_status, held_mail_and_originals
from sla.selectors import ticket_sla_state

from ... import presence
from ...agent_selectors import meta_choices, ticket_links, timeline
from ...canned import canned_choices
from ...forms import AssignForm, DetailsForm, NoteForm, PriorityForm, ReplyForm, StatusForm, TransferForm
from ...models import Message
from .common import agent_required, agent_ticket


@agent_required
def ticket_detail(request, number: int):
    ticket = agent_ticket(request, number, with_link_flag=True)
    presence.heartbeat(ticket.pk, request.user)
    return render_ticket(request, ticket)


def render_ticket(request, ticket, *, status: int = 200, **overrides):
    """The ticket page; `overrides` replace default forms (bound forms with errors, a collision)."""
    return render(
        request, "tickets/agent/ticket.html", ticket_context(request, ticket, **overrides), status=status
    )


def last_public_id(items) -> int:
    return max((i.pk for i in items if isinstance(i, Message) and i.is_public), default=0)


def ticket_context(request, ticket, **overrides) -> dict:
    items = timeline(ticket)
    held, originals = held_mail_and_originals(ticket, (i.pk for i in items if isinstance(i, Message)))
    context = {
        "ticket": ticket,
        "items": items,
        # Tickets loaded by ticket_detail know whether they have links at all (most have none).
        "links": ticket_links(ticket) if getattr(ticket, "has_links", True) else [],
        "canned": canned_choices(user=request.user, ticket=ticket),
        "present": presence.others(ticket.pk, request.user),
        "reply_form": ReplyForm(initial={"last_seen": last_public_id(items), "status": "pending"}),
        "note_form": NoteForm(),
        **meta_forms(ticket),
        "collisions": [],
        # Mail gateway: held mail from strangers, undelivered replies, which messages have a raw original.
        "held": held,
        "undelivered": delivery_status(ticket),
        "originals": originals,
        "sla": ticket_sla_state(ticket),  # SLA clocks (sla app)
    }
    context.update(overrides)
    return context


def meta_forms(ticket) -> dict:
    return {
        "assign_form": AssignForm(ticket=ticket, initial={"assignee": ticket.assignee_id}),
        "status_form": StatusForm(initial={"status": ticket.status}),
        "priority_form": PriorityForm(initial={"priority": ticket.priority}),
        "details_form": DetailsForm(initial={"subject": ticket.subject, "product": ticket.product_id}),
        "transfer_form": TransferForm(ticket=ticket),
        "choices": meta_choices(ticket),  # the menus of these forms, rendered as plain loops
    }
