"""URLs of the agent workspace (included under agent/ by tickets.urls)."""

from django.urls import path

from .feeds import MessagesFeed
from .views.agent import canned, changes, compose, live, queue, relations, ticket

urlpatterns = [
    path("", queue.queue, name="agent_queue"),
    path("d/<slug:department_slug>/", queue.queue, name="agent_department_queue"),
    path("bulk/", queue.bulk, name="agent_bulk"),
    path("poll/", live.poll, name="agent_poll"),
    path("feed/<str:token>/", MessagesFeed(), name="agent_feed"),
    path("canned/", canned.canned_list, name="agent_canned_list"),
    path("canned/new/", canned.canned_edit, name="agent_canned_new"),
    path("canned/<int:pk>/", canned.canned_edit, name="agent_canned_edit"),
    path("canned/<int:pk>/delete/", canned.canned_delete, name="agent_canned_delete"),
    path("tickets/<int:number>/", ticket.ticket_detail, name="agent_ticket"),
    path("tickets/<int:number>/reply/", compose.reply, name="agent_reply"),
    path("tickets/<int:number>/note/", compose.note, name="agent_note"),
    path("tickets/<int:number>/take/", changes.take, name="agent_take"),
    path("tickets/<int:number>/assign/", changes.assign, name="agent_assign"),
    path("tickets/<int:number>/status/", changes.set_status, name="agent_status"),
    path("tickets/<int:number>/priority/", changes.set_priority, name="agent_priority"),
    path("tickets/<int:number>/details/", changes.edit_details, name="agent_details"),
    path("tickets/<int:number>/transfer/", changes.transfer, name="agent_transfer"),
    path("tickets/<int:number>/split/<int:message_id>/", relations.split, name="agent_split"),
    path("tickets/<int:number>/merge/", relations.merge, name="agent_merge"),
    path("tickets/<int:number>/unmerge/<int:event_id>/", relations.unmerge, name="agent_unmerge"),
    path("tickets/<int:number>/presence/", live.heartbeat, name="agent_presence"),
    path("tickets/<int:number>/canned/<int:pk>/", canned.insert, name="agent_canned_insert"),
]
