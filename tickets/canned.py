"""Canned responses: which ones an agent may use or manage, and filling in their placeholders."""

import re
from typing import NamedTuple

from django.db.models import Q

from departments.permissions import managed_departments, visible_departments

from .models import CannedResponse, Ticket

PLACEHOLDER = re.compile(r"\{(\w+)\}")


def canned_for_ticket(*, user, ticket: Ticket):
    """The ticket department's shared responses and the agent's personal ones."""
    return CannedResponse.objects.filter(Q(department_id=ticket.department_id) | Q(owner=user)).order_by(
        "title", "pk"
    )


class CannedChoice(NamedTuple):
    pk: int
    title: str
    owner_id: int | None


def canned_choices(*, user, ticket: Ticket) -> list[CannedChoice]:
    """canned_for_ticket as the reply form's picker shows it, through the page cache (tickets.page_cache:
    until a canned response, user or membership changes). Inserting one re-reads it with the checks."""
    from . import page_cache

    def compute(_missing):
        rows = canned_for_ticket(user=user, ticket=ticket).values_list("pk", "title", "owner_id")
        return {page_cache.DIRECTORY: [CannedChoice(*row) for row in rows]}

    return page_cache.cached_per_scope(
        "menus", [page_cache.DIRECTORY], compute,
        max_age=page_cache.menus_max_age(), extra=f"canned:{user.pk}:{int(ticket.department_id)}",
    )[page_cache.DIRECTORY]  # fmt: skip


def canned_visible(user):
    """Everything the agent can see in the management pages."""
    return (
        CannedResponse.objects.filter(Q(owner=user) | Q(department__in=visible_departments(user)))
        .select_related("department", "owner")
        .order_by("department__name", "title", "pk")
    )


def canned_editable(user):
    """Personal responses of the agent, and those of the departments he manages."""
    return CannedResponse.objects.filter(Q(owner=user) | Q(department__in=managed_departments(user)))


def render_canned(body: str, *, ticket: Ticket, agent) -> str:
    """Fill the known placeholders; anything else in braces is left as typed (no str.format: a
    template must never reach attributes of the values)."""
    values = {
        "customer_name": ticket.customer.name,
        "ticket_reference": ticket.reference,
        "agent_name": agent.name,
        "department": ticket.department.name,
    }
    return PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), body)
