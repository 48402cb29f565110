"""A private Atom feed of new messages (customer messages, replies and internal notes) in the agent's
departments, for feed readers that cannot log in.

The secret token in the URL is an HMAC of the user id, his password hash and his feed key (like
django.contrib.auth.tokens): no table, tamper-proof, and changing the password or regenerating the
feed key on the profile page revokes every old feed URL. A bad token, an inactive user or a non-agent gets 404.
"""

from django.apps import apps
from django.conf import settings
from django.contrib.syndication.views import Feed
from django.http import Http404
from django.urls import reverse
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.feedgenerator import Atom1Feed
from django.utils.html import linebreaks
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from accounts.models import User
from departments.permissions import is_agent, visible_departments

from .agent_selectors import QUEUE_LABELS, queue_tickets
from .models import Message

FEED_SIZE = 50


def feed_token(user) -> str:
    digest = salted_hmac(
        "helpdesk.feed", f"{user.pk}:{user.password}:{user.feed_key}", secret=settings.SECRET_KEY
    ).hexdigest()
    return f"{user.pk}-{digest[:24]}"


def user_for_token(token: str, *, agents_only: bool = True):
    user_id, _sep, _digest = (token or "").partition("-")
    if not user_id.isdigit():
        return None
    user = User.objects.filter(pk=int(user_id), is_active=True).first()
    if user is None or (agents_only and not is_agent(user)) or not constant_time_compare(feed_token(user), token):
        return None
    return user


def feed_url(request, user, *, department=None, queue: str = "active") -> str:
    url = reverse("agent_feed", args=[feed_token(user)])
    params = {
        k: v for k, v in {"department": department.slug if department else "", "queue": queue}.items() if v
    }
    return request.build_absolute_uri(f"{url}?{urlencode(params)}" if params else url)


class MessageItems:
    """How a Message is shown as a feed entry (the agent feed and the API's feeds share it)."""

    def item_title(self, item):
        return f"{item.ticket.reference} {item.ticket.subject} — {item.get_kind_display()}"

    def item_description(self, item):
        return linebreaks(item.body_text[:2000], autoescape=True)

    def item_author_name(self, item):
        return item.author.name if item.author else _("System")

    def item_pubdate(self, item):
        return item.created_at

    def item_updateddate(self, item):
        return item.created_at  # atom:updated is required in every entry (RFC 4287 4.1.2)

    def item_guid(self, item):
        return f"{settings.SITE_URL}/messages/{item.pk}"


class MessagesFeed(MessageItems, Feed):
    feed_type = Atom1Feed

    def get_object(self, request, token: str):
        user = user_for_token(token)
        if user is None:
            raise Http404
        department = None
        slug = request.GET.get("department", "")
        if slug:
            department = visible_departments(user).filter(slug=slug).first()
            if department is None:
                raise Http404
        queue = request.GET.get("queue", "active")
        obj = {"user": user, "department": department, "queue": queue if queue in QUEUE_LABELS else "active"}
        view = request.GET.get("view", "")
        if view:
            obj["view"] = saved_view(user, view)
        return obj

    def title(self, obj):
        if obj.get("view") is not None:
            return _("New messages: %(view)s") % {"view": obj["view"].name}
        scope = obj["department"].name if obj["department"] else _("All my departments")
        return _("New messages: %(scope)s — %(queue)s") % {
            "scope": scope,
            "queue": QUEUE_LABELS[obj["queue"]],
        }

    def link(self, obj):
        return reverse("agent_queue")

    def subtitle(self, obj):
        return _("Customer messages, replies and internal notes, newest first.")

    def items(self, obj):
        if obj.get("view") is not None:
            tickets = saved_view_tickets(obj["user"], obj["view"]).order_by()
        else:
            tickets = queue_tickets(
                user=obj["user"], department=obj["department"], queue=obj["queue"]
            ).order_by()
        return (
            Message.objects.filter(ticket__in=tickets.values("pk"), kind__in=_kinds())
            .select_related("ticket", "author")
            .order_by("-pk")[:FEED_SIZE]
        )

    def item_link(self, item):
        return reverse("agent_ticket", args=[item.ticket.number]) + f"#m{item.pk}"


def saved_view(user, view_id: str):
    """A saved search (the `search` app's workspaces) the user may see, else 404."""
    if not view_id.isdigit() or not apps.is_installed("search"):
        raise Http404
    from search.selectors import visible_workspaces

    view = visible_workspaces(user).filter(pk=int(view_id)).first()
    if view is None:
        raise Http404
    return view


def saved_view_tickets(user, view):
    """The view's tickets; search_tickets() already limits them to what the user may see."""
    from search.filters import parse_filters
    from search.selectors import search_tickets

    return search_tickets(user=user, filters=parse_filters(view.filters))


def _kinds():
    return [Message.Kind.CUSTOMER, Message.Kind.REPLY, Message.Kind.NOTE]
