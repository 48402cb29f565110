"""Read-only endpoints besides tickets: attachments, departments, canned responses, statistics, me."""

from django.http import FileResponse, Http404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response

from departments.permissions import is_agent
from reports.serialize import report_json
from reports.views import department_report_for, own_report_for
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


REPORT_PARAMETERS = [
    OpenApiParameter("period", str, description=_("7, 30, 90 or 365 (days); default 30")),
    OpenApiParameter("since", OpenApiTypes.DATE, description=_("first day (with until, instead of period)")),
    OpenApiParameter("until", OpenApiTypes.DATE, description=_("last day")),
]


class ReportView(ApiView):
    @extend_schema(
        parameters=[
            OpenApiParameter("department", str, description=_("department slug; default all the user may see")),
            *REPORT_PARAMETERS,
        ],
        responses={200: OpenApiTypes.OBJECT},
        description=_(
            "The statistics page's figures (per department, per agent, per day, ratings) as JSON: for managers "
            "of the departments and admins; anyone else gets 404."
        ),
    )
    def get(self, request):
        return Response(report_json(department_report_for(request)))


class OwnReportView(ApiView):
    @extend_schema(
        parameters=REPORT_PARAMETERS,
        responses={200: OpenApiTypes.OBJECT},
        description=_("The agent's own figures, as on /reports/me/."),
    )
    def get(self, request):
        return Response(report_json(own_report_for(request)))


class MeView(ApiView):
    @extend_schema(responses=inline_serializer("Me", {
        "id": serializers.IntegerField(), "email": serializers.EmailField(), "name": serializers.CharField(),
        "is_agent": serializers.BooleanField(), "language": serializers.CharField(),
    }))
    def get(self, request):
        user = request.user
        return Response({"id": user.pk, "email": user.email, "name": user.name,
                         "is_agent": is_agent(user), "language": user.language})
