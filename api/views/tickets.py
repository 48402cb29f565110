"""Ticket endpoints. Each parses input, takes the ticket through departments.permissions (404 for what the
user may not see) and calls one tickets.services function: the API never changes state by itself."""

from django.conf import settings
from django.http import Http404
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import exceptions, status
from rest_framework.response import Response

from accounts.services import customer_for_email
from departments.models import Department
from departments.permissions import access_ticket, is_agent
from tickets import services
from tickets.choices import ACTIVE_STATUSES, DONE_STATUSES, Channel, Status
from tickets.selectors_customer import recent_ticket_count

from .. import serializers as s
from ..errors import NotAllowed
from ..filters import TicketFilterSerializer
from ..idempotency import idempotent
from ..selectors import api_tickets, department_for_new_ticket, ticket_messages
from .common import ApiView, field_error

IDEMPOTENCY = OpenApiParameter(
    "Idempotency-Key", str, OpenApiParameter.HEADER, required=False,
    description=gettext_lazy("Retrying with the same key returns the first response instead of acting twice."),
)


Q_PARAMETER = [
    OpenApiParameter(
        "q", str, OpenApiParameter.QUERY, required=False,
        description=gettext_lazy(
            'Full-text search as on the search page: all words, in any form ("сервер" finds "серверы"), '
            '"a phrase", -excluded. Agents search internal notes too. #12345 returns that ticket.'
        ),
        examples=[OpenApiExample("words", value='сервер -vpn "не отвечает"')],
    ),
]


class TicketListView(ApiView):
    serializer_class = s.TicketSerializer

    @extend_schema(
        parameters=[TicketFilterSerializer, *Q_PARAMETER],
        responses=s.TicketSerializer(many=True),
        description=gettext_lazy(
            "The tickets the user may see, filtered and sorted exactly as on the search page (/search/): the "
            "same parameters give the same tickets. Customers: their own tickets, words searched in the "
            "public conversation only."
        ),
    )
    def get(self, request):
        filters = self.valid(TicketFilterSerializer, data=request.query_params)
        page = self.paginate_queryset(api_tickets(user=request.user, filters=filters))
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    @extend_schema(request={"application/json": s.TicketCreateSerializer, "multipart/form-data": s.TicketCreateSerializer},
                   responses={201: s.TicketDetailSerializer}, parameters=[IDEMPOTENCY])
    @idempotent
    def post(self, request):
        data = self.valid(s.TicketCreateSerializer)
        department = department_for_new_ticket(request.user, data["department"])
        if department is None:
            raise field_error("department", _("No such department."))
        ticket = services.ticket_create(
            department=department,
            subject=data["subject"],
            body_text=data["body"],
            files=data["files"],
            channel=Channel.API,
            **self._customer_and_priority(data),
        )
        return detail_response(self, ticket, status.HTTP_201_CREATED)

    def _customer_and_priority(self, data) -> dict:
        user = self.request.user
        if not is_agent(user):
            if "customer_email" in data or "priority" in data:
                raise exceptions.PermissionDenied(_("Only agents can set customer_email or priority."))
            if recent_ticket_count(user) >= settings.HELPDESK_CUSTOMER_TICKETS_PER_HOUR:  # as the cabinet form
                raise exceptions.Throttled(detail=_("Too many new tickets in the last hour; please wait."))
            return {"customer": user}
        if "customer_email" not in data:
            raise field_error("customer_email", _("Agents file tickets on behalf of a customer: give his email."))
        customer = customer_for_email(data["customer_email"], name=data["customer_name"])
        return {"customer": customer, "author": user, "priority": data.get("priority")}


def detail_response(view, ticket, code=status.HTTP_200_OK, *, reread: bool = True) -> Response:
    user = view.request.user
    # After a change, re-read with its relations (through the access check) to show the new state.
    fresh = view.ticket(ticket.number) if reread else ticket
    context = {**view.get_serializer_context(), "messages": ticket_messages(fresh, user=user)}
    return Response(s.TicketDetailSerializer(fresh, context=context).data, status=code)


def summary_response(view, ticket, code=status.HTTP_200_OK) -> Response:
    return Response(s.TicketSerializer(ticket, context=view.get_serializer_context()).data, status=code)


class TicketDetailView(ApiView):
    serializer_class = s.TicketDetailSerializer

    def get(self, request, number: int):
        return detail_response(self, self.ticket(number), reread=False)

    @extend_schema(request=s.TicketUpdateSerializer, responses=s.TicketDetailSerializer)
    def patch(self, request, number: int):
        ticket = self.ticket(number)
        data = self.valid(s.TicketUpdateSerializer)
        if is_agent(request.user):
            _agent_update(ticket, request.user, data)
        else:
            _customer_update(ticket, request.user, data)
        return detail_response(self, ticket)


def _agent_update(ticket, user, data) -> None:
    if "status" in data:
        services.ticket_set_status(ticket=ticket, actor=user, status=data["status"])
    if "priority" in data:
        services.ticket_set_priority(ticket=ticket, actor=user, priority=data["priority"])
    if "assignee" in data:
        services.ticket_assign(ticket=ticket, actor=user, assignee=data["assignee"])


def _customer_update(ticket, user, data) -> None:
    """Customers may close their request or reopen it, as in the cabinet; nothing else."""
    if set(data) != {"status"} or data["status"] not in (Status.CLOSED, Status.OPEN):
        raise exceptions.PermissionDenied(_("Customers can only close or reopen their tickets."))
    if data["status"] == Status.CLOSED and ticket.status in ACTIVE_STATUSES:
        services.ticket_close(ticket=ticket, actor=user)
    elif data["status"] == Status.OPEN and ticket.status in DONE_STATUSES and ticket.merged_into_id is None:
        services.ticket_reopen(ticket=ticket, actor=user)
    elif ticket.status not in (ACTIVE_STATUSES if data["status"] == Status.OPEN else DONE_STATUSES):
        raise NotAllowed(_("This ticket cannot be changed to that status."))


class TicketReplyView(ApiView):
    """An agent's reply (mailed to the customer), or a customer's message on his own ticket."""

    serializer_class = s.MessageSerializer

    @extend_schema(request={"application/json": s.ReplySerializer, "multipart/form-data": s.ReplySerializer},
                   responses={201: s.MessageSerializer}, parameters=[IDEMPOTENCY])
    @idempotent
    def post(self, request, number: int):
        ticket = self.ticket(number)
        data = self.valid(s.ReplySerializer)
        if is_agent(request.user):
            message = services.ticket_reply(
                ticket=ticket, author=request.user, body_text=data["body"], status=data["status"],
                channel=Channel.API, files=data["files"],
            )
        else:
            if ticket.merged_into_id is not None:
                raise NotAllowed(_("This ticket was merged into %(ref)s; write there.") % {"ref": ticket.merged_into.reference})
            message = services.ticket_customer_message(
                ticket=ticket, author=request.user, body_text=data["body"], channel=Channel.API, files=data["files"],
            )
        return Response(self.get_serializer(message).data, status=status.HTTP_201_CREATED)


class TicketNoteView(ApiView):
    serializer_class = s.MessageSerializer

    @extend_schema(request={"application/json": s.NoteSerializer, "multipart/form-data": s.NoteSerializer},
                   responses={201: s.MessageSerializer}, parameters=[IDEMPOTENCY])
    @idempotent
    def post(self, request, number: int):
        ticket = self.agent_ticket(number)
        data = self.valid(s.NoteSerializer)
        message = services.ticket_note(ticket=ticket, author=request.user, body_text=data["body"], files=data["files"])
        return Response(self.get_serializer(message).data, status=status.HTTP_201_CREATED)


def _department(slug: str) -> Department:
    department = Department.objects.active().filter(slug=slug).first()
    if department is None:
        raise field_error("department", _("No such department."))
    return department


class TicketTransferView(ApiView):
    serializer_class = s.TicketSerializer

    @extend_schema(request=s.TransferSerializer, responses=s.TicketSerializer, parameters=[IDEMPOTENCY])
    @idempotent
    def post(self, request, number: int):
        ticket = self.agent_ticket(number)
        data = self.valid(s.TransferSerializer)
        ticket = services.ticket_transfer(
            ticket=ticket, actor=request.user, department=_department(data["department"]), reason=data["reason"]
        )
        return summary_response(self, ticket)


class TicketSplitView(ApiView):
    serializer_class = s.TicketSerializer

    @extend_schema(request=s.SplitSerializer, responses={201: s.TicketSerializer}, parameters=[IDEMPOTENCY])
    @idempotent
    def post(self, request, number: int):
        ticket = self.agent_ticket(number)
        data = self.valid(s.SplitSerializer)
        message = ticket.messages.exclude(kind="event").filter(pk=data["message"]).first()
        if message is None:
            raise field_error("message", _("No such message on this ticket."))
        new = services.ticket_split(
            ticket=ticket, message=message, actor=request.user,
            department=_department(data["department"]), subject=data["subject"],
        )
        return summary_response(self, new, status.HTTP_201_CREATED)


class TicketMergeView(ApiView):
    serializer_class = s.TicketSerializer

    @extend_schema(request=s.MergeSerializer, responses=s.TicketSerializer, parameters=[IDEMPOTENCY])
    @idempotent
    def post(self, request, number: int):
        ticket = self.agent_ticket(number)
        data = self.valid(s.MergeSerializer)
        try:
            target = access_ticket(request.user, data["target"])
        except Http404:
            raise field_error("target", _("No such ticket.")) from None
        services.ticket_merge(source=ticket, target=target, actor=request.user)
        return summary_response(self, self.ticket(target.number))
