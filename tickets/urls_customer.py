"""Customer cabinet URLs beyond the list and detail pages (those stay in tickets/urls.py)."""

from django.urls import path

from .views import customer, rating_link

urlpatterns = [
    path("tickets/new/", customer.ticket_new, name="ticket_new"),
    path("tickets/<int:number>/reply/", customer.ticket_reply, name="ticket_reply"),
    path("tickets/<int:number>/close/", customer.ticket_close, name="ticket_close"),
    path("tickets/<int:number>/reopen/", customer.ticket_reopen, name="ticket_reopen"),
    path("tickets/<int:number>/replies/<int:message_pk>/rate/", customer.rate_reply, name="rate_reply"),
    path("rate/<int:message_pk>/<str:token>/", rating_link.rate_by_link, name="rate_by_link"),
]
