"""Reads for the API. Every ticket read starts from departments.permissions.visible_tickets, so the API
sees exactly what the web UI shows the same user."""

from django.db.models import Prefetch, Q, QuerySet
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from departments.models import Department
from departments.permissions import access_ticket, is_agent, visible_departments, visible_tickets
from tickets.choices import Channel, Priority, Status
from tickets.models import Attachment, Message, Ticket

ORDERINGS = {
    "-updated_at": ("-updated_at", "-pk"),
    "updated_at": ("updated_at", "pk"),
    "-created_at": ("-created_at", "-pk"),
    "created_at": ("created_at", "pk"),
    "-priority": ("-priority", "-updated_at", "-pk"),
}


class TicketFilterSerializer(serializers.Serializer):
    """Query parameters of the ticket list (the same vocabulary as the web queue and search)."""

    status = serializers.MultipleChoiceField(choices=Status.choices, required=False)
    priority = serializers.MultipleChoiceField(choices=Priority.choices, required=False)
    department = serializers.SlugField(required=False)
    assignee = serializers.RegexField(regex=r"^(me|none|\d+)$", required=False, help_text=_("me, none or a user id"))
    customer = serializers.EmailField(required=False)
    channel = serializers.MultipleChoiceField(choices=Channel.choices, required=False)
    escalated = serializers.BooleanField(required=False, allow_null=True, default=None)
    q = serializers.CharField(required=False, max_length=200, help_text=_("Text in the subject, or #number"))
    created_after = serializers.DateTimeField(required=False)
    updated_after = serializers.DateTimeField(required=False)
    ordering = serializers.ChoiceField(choices=list(ORDERINGS), required=False, default="-updated_at")


def api_tickets(*, user, filters: dict) -> QuerySet[Ticket]:
    qs = visible_tickets(user).select_related("customer", "department", "assignee")
    simple = {
        "status__in": filters.get("status"),
        "priority__in": filters.get("priority"),
        "department__slug": filters.get("department"),
        "customer__email__iexact": filters.get("customer"),
        "channel__in": filters.get("channel"),
        "created_at__gte": filters.get("created_after"),
        "updated_at__gte": filters.get("updated_after"),
    }
    qs = qs.filter(**{k: v for k, v in simple.items() if v})
    if filters.get("escalated") is not None:
        qs = qs.filter(escalated_at__isnull=not filters["escalated"])
    assignee = filters.get("assignee")
    if assignee == "me":
        qs = qs.filter(assignee=user)
    elif assignee == "none":
        qs = qs.filter(assignee__isnull=True)
    elif assignee:
        qs = qs.filter(assignee_id=int(assignee))
    text = (filters.get("q") or "").strip()
    if text:
        number = text.lstrip("#")
        qs = qs.filter(Q(subject__icontains=text) | (Q(number=int(number)) if number.isdigit() else Q()))
    return qs.order_by(*ORDERINGS[filters.get("ordering") or "-updated_at"])


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
