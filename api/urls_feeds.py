from django.urls import path

from .feeds import MyTicketsAtomFeed, MyTicketsRssFeed, WorkspaceAtomFeed

urlpatterns = [
    path("<str:token>/tickets.atom", MyTicketsAtomFeed(), name="my_tickets_atom"),
    path("<str:token>/tickets.rss", MyTicketsRssFeed(), name="my_tickets_rss"),
    path("<str:token>/workspaces/<int:pk>.atom", WorkspaceAtomFeed(), name="workspace_atom"),
]
