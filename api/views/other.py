"""Read-only endpoints besides tickets: attachments, departments, canned responses, statistics, me."""

from django.http import FileResponse, Http404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response

from departments.permissions import is_agent
from tickets.canned import canned_for_ticket, canned_visible, render_canned
from tickets.selectors import attachment_for_user

from .. import serializers as s
from ..selectors import api_departments, ticket_statistics
from .common import ApiView


class AttachmentDownloadView(ApiView):
    """The file's bytes, through the same permission check as the web download (404 otherwise)."""

    @extend_schema(responses={(200, "application/octet-stream"): OpenApiTypes.BINARY})
    def get(self, request, pk: int):
        attachment = attachment_for_user(user=request.user, pk=pk)
        response = FileResponse(
            attachment.file.open("rb"), as_attachment=True, filename=attachment.filename,
            content_type=attachment.content_type,
        )
        response["X-Content-Type-Options"] = "nosniff"
        response["Content-Security-Policy"] = "default-src 'none'; sandbox"
        return response


class DepartmentListView(ApiView):
    serializer_class = s.DepartmentSerializer
    pagination_class = None

    def get(self, request):
        return Response(self.get_serializer(api_departments(request.user), many=True).data)


class CannedResponseListView(ApiView):
    """Agents: their personal responses and those of their departments."""

    serializer_class = s.CannedResponseSerializer

    def get(self, request):
        if not is_agent(request.user):
            raise Http404
        page = self.paginate_queryset(canned_visible(request.user))
        return self.get_paginated_response(self.get_serializer(page, many=True).data)


class TicketCannedResponseListView(ApiView):
    """The responses usable on one ticket, with the placeholders filled in for it (agents)."""

    serializer_class = s.CannedResponseSerializer
    pagination_class = None

    def get(self, request, number: int):
        ticket = self.agent_ticket(number)
        responses = list(canned_for_ticket(user=request.user, ticket=ticket).select_related("department"))
        for canned in responses:
            canned.body = render_canned(canned.body, ticket=ticket, agent=request.user)
        return Response(self.get_serializer(responses, many=True).data)


class StatisticsView(ApiView):
    @extend_schema(
        responses={200: OpenApiTypes.OBJECT},
        description=_("Ticket counts per department slug and status, over the tickets the user may see."),
    )
    def get(self, request):
        return Response({"tickets": ticket_statistics(request.user)})


class MeView(ApiView):
    @extend_schema(responses=inline_serializer("Me", {
        "id": serializers.IntegerField(), "email": serializers.EmailField(), "name": serializers.CharField(),
        "is_agent": serializers.BooleanField(), "language": serializers.CharField(),
    }))
    def get(self, request):
        user = request.user
        return Response({"id": user.pk, "email": user.email, "name": user.name,
                         "is_agent": is_agent(user), "language": user.language})
