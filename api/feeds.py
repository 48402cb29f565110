"""Atom and RSS of one's own tickets for feed readers that cannot log in: a customer's requests (public
messages only), an agent's departments (internal notes too). Authenticated by the secret feed token
in the URL (tickets.feeds.feed_token: user id + password hash + feed key), which the user can revoke
by regenerating his feed key on the profile page. The agent queue feed stays at agent/feed/<token>/.
Agents also get one Atom feed per saved workspace, at <token>/workspaces/<pk>.atom."""

from django.contrib.syndication.views import Feed
from django.http import Http404
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed, Rss201rev2Feed
from django.utils.translation import gettext as _

from departments.permissions import is_agent, visible_tickets
from search.selectors import workspace_for
from tickets.feeds import FEED_SIZE, MessageItems, user_for_token
from tickets.models import Message

from .selectors import workspace_messages


class MyTicketsAtomFeed(MessageItems, Feed):
    feed_type = Atom1Feed

    def get_object(self, request, token: str):
        user = user_for_token(token, agents_only=False)
        if user is None:
            raise Http404
        return user

    def title(self, user):
        return _("My tickets: new messages") if not is_agent(user) else _("My departments: new messages")

    def link(self, user):
        return reverse("agent_queue") if is_agent(user) else reverse("ticket_list")

    def subtitle(self, user):
        return _("The newest messages on your tickets.")

    def items(self, user):
        kinds = [Message.Kind.CUSTOMER, Message.Kind.REPLY]
        if is_agent(user):
            kinds.append(Message.Kind.NOTE)
        messages = list(
            Message.objects.filter(ticket__in=visible_tickets(user).values("pk"), kind__in=kinds)
            .select_related("ticket", "author")
            .order_by("-pk")[:FEED_SIZE]
        )
        page = "agent_ticket" if is_agent(user) else "ticket_detail"  # the feed instance is shared: no state
        for message in messages:
            message.feed_link = reverse(page, args=[message.ticket.number]) + f"#m{message.pk}"
        return messages

    def item_link(self, item):
        return item.feed_link


class MyTicketsRssFeed(MyTicketsAtomFeed):
    feed_type = Rss201rev2Feed


class WorkspaceAtomFeed(MyTicketsAtomFeed):
    """New messages on the tickets of one saved workspace (search.models.SavedSearch), internal notes
    included: only agents have workspaces. A workspace the token's user cannot see is a 404, as on the
    workspace page."""

    def get_object(self, request, token: str, pk: int):
        user = user_for_token(token)
        if user is None:
            raise Http404
        return workspace_for(user, pk), user

    def title(self, obj):
        return _("New messages: %(workspace)s") % {"workspace": obj[0].name}

    def link(self, obj):
        return reverse("workspace", args=[obj[0].pk])

    def subtitle(self, obj):
        return _("Customer messages, replies and internal notes on the workspace's tickets, newest first.")

    def items(self, obj):
        workspace, user = obj
        messages = workspace_messages(user=user, workspace=workspace, limit=FEED_SIZE)
        for message in messages:
            message.feed_link = reverse("agent_ticket", args=[message.ticket.number]) + f"#m{message.pk}"
        return messages
