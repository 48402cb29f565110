from django.urls import include, path

from .views import attachments, customer

urlpatterns = [
    path("agent/", include("tickets.urls_agent")),
    path("tickets/", customer.ticket_list, name="ticket_list"),
    path("tickets/<int:number>/", customer.ticket_detail, name="ticket_detail"),
    path("attachments/<int:pk>/", attachments.download, name="attachment"),
    path("attachments/<int:pk>/<str:filename>", attachments.download, name="attachment_named"),
    path("", include("tickets.urls_customer")),
]
