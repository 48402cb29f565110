from django.urls import include, path

from . import views

urlpatterns = [
    path(
        "tickets/<int:number>/messages/<int:message_pk>/original.eml",
        views.message_original,
        name="message_original",
    ),
    path("agent/tickets/<int:number>/held/<int:inbound_pk>/accept/", views.held_accept, name="held_mail_accept"),
    path("agent/tickets/<int:number>/held/<int:inbound_pk>/reject/", views.held_reject, name="held_mail_reject"),
    # django-anymail inbound webhooks, e.g. /anymail/mailgun/inbound_mime/ (see the README).
    path("anymail/", include("anymail.urls")),
]
