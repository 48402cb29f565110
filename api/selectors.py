"""Reads for the API. Every ticket read starts from departments.permissions.visible_tickets, so the API
sees exactly what the web UI shows the same user."""

from django.db.models import Prefetch, Q, QuerySet

from departments.models import Department
from departments.permissions import access_ticket, is_agent, visible_departments, visible_tickets
from search.filters import parse_filters
from search.selectors import search_tickets, ticket_by_reference
from tickets.models import Attachment, Message, Ticket

from .filters import api_extras, search_params


def api_tickets(*, user, filters: dict) -> QuerySet[Ticket]:
    """The ticket list: the web search (same selector, same parsed filters, same access), plus the API's
    extras. A bare ticket reference in q returns that ticket, where the search page would open it."""
    text = filters.get("q") or ""
    ticket = ticket_by_reference(user=user, text=text) if text else None
    if ticket is not None:
        qs = visible_tickets(user).select_related("customer", "department", "assignee")
        return qs.filter(pk=ticket.pk).order_by("pk")
    qs = search_tickets(user=user, filters=parse_filters(search_params(filters)))
    return api_extras(qs, filters)


def api_ticket(*, user, number) -> Ticket:
    return access_ticket(
        user, number, queryset=Ticket.objects.select_related("customer", "department", "assignee", "product", "merged_into")
    )


def ticket_messages(ticket: Ticket, *, user) -> list[Message]:
    """The conversation: internal notes only for the department's agents, never system events."""
    kinds = [Message.Kind.CUSTOMER, Message.Kind.REPLY]
    if is_agent(user):
        kinds.append(Message.Kind.NOTE)
    return list(
        ticket.messages.filter(kind__in=kinds)
        .select_related("author")
        .prefetch_related(Prefetch("attachments", queryset=Attachment.objects.order_by("pk")))
    )


def api_departments(user) -> QuerySet[Department]:
    """Agents: the departments they work. Customers: those they can file tickets in."""
    if is_agent(user):
        return visible_departments(user).filter(is_active=True).order_by("position", "name")
    return Department.objects.active().filter(customer_selectable=True)


def department_for_new_ticket(user, slug: str) -> Department | None:
    qs = api_departments(user)
    if not is_agent(user):
        qs = Department.objects.active().filter(Q(customer_selectable=True) | Q(is_triage=True))
    return qs.filter(slug=slug).first()


def ticket_statistics(user) -> dict:
    """Open tickets per department and status, over what the user may see."""
    from django.db.models import Count

    rows = (
        visible_tickets(user)
        .values("department__slug", "status")
        .annotate(n=Count("pk"))
        .order_by("department__slug", "status")
    )
    out: dict[str, dict[str, int]] = {}
    for row in rows:
        out.setdefault(row["department__slug"], {})[row["status"]] = row["n"]
    return out


def workspace_messages(*, user, workspace, limit: int) -> list[Message]:
    """The newest messages (customer, reply, internal note) of the tickets the workspace's search finds,
    newest first: two queries (the messages with ticket and author; the search is a subquery)."""
    tickets = search_tickets(user=user, filters=parse_filters(workspace.filters)).order_by()
    return list(
        Message.objects.filter(
            ticket__in=tickets.values("pk"), kind__in=[Message.Kind.CUSTOMER, Message.Kind.REPLY, Message.Kind.NOTE]
        )
        .select_related("ticket", "author")
        .order_by("-pk")[:limit]
    )
