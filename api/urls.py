from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerSplitView

from .views import other, tickets

app_name = "api"

v1 = [
    path("v1/tickets/", tickets.TicketListView.as_view(), name="ticket-list"),
    path("v1/tickets/<int:number>/", tickets.TicketDetailView.as_view(), name="ticket-detail"),
    path("v1/tickets/<int:number>/replies/", tickets.TicketReplyView.as_view(), name="ticket-reply"),
    path("v1/tickets/<int:number>/notes/", tickets.TicketNoteView.as_view(), name="ticket-note"),
    path("v1/tickets/<int:number>/transfer/", tickets.TicketTransferView.as_view(), name="ticket-transfer"),
    path("v1/tickets/<int:number>/split/", tickets.TicketSplitView.as_view(), name="ticket-split"),
    path("v1/tickets/<int:number>/merge/", tickets.TicketMergeView.as_view(), name="ticket-merge"),
    path("v1/tickets/<int:number>/canned-responses/", other.TicketCannedResponseListView.as_view(),
         name="ticket-canned"),
    path("v1/attachments/<int:pk>/", other.AttachmentDownloadView.as_view(), name="attachment"),
    path("v1/departments/", other.DepartmentListView.as_view(), name="department-list"),
    path("v1/canned-responses/", other.CannedResponseListView.as_view(), name="canned-list"),
    path("v1/statistics/", other.StatisticsView.as_view(), name="statistics"),
    path("v1/reports/", other.ReportView.as_view(), name="reports"),
    path("v1/reports/me/", other.OwnReportView.as_view(), name="reports-own"),
    path("v1/me/", other.MeView.as_view(), name="me"),
]

urlpatterns = [
    *v1,
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api:schema"), name="docs"),
    path("redoc/", SpectacularRedocView.as_view(url_name="api:schema"), name="redoc"),
]
