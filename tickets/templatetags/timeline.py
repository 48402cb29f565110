"""Filters for the ticket timeline, where every item costs: a page shows 50 messages and their events.

`timeline_message` / `timeline_event` work out everything an item shows in Python, once, so the partials
are plain output (each template variable lookup and {% include %} costs a few microseconds, and a
message used to need about 25 of them plus several includes)."""

from django import template
from django.core.exceptions import ObjectDoesNotExist
from django.template.defaultfilters import filesizeformat
from django.urls import get_script_prefix, reverse
from django.utils.formats import date_format
from django.utils.html import escape
from django.utils.safestring import SafeString
from django.utils.timezone import template_localtime
from django.utils.translation import gettext

from ..message_body import RenderedBody, body_for_display

register = template.Library()


@register.filter
def message_body(message) -> RenderedBody:
    """{% with body=message|message_body %}{{ body.shown }} ... {{ body.quoted }}{% endwith %}"""
    return body_for_display(message)


@register.filter(expects_localtime=True)
def time_tag(value, format_name: str = "DATETIME_FORMAT") -> str:
    """<time datetime="ISO">localized date</time>, the value converted to the user's time zone once
    (`|date:'c'` and `|date:"DATETIME_FORMAT"` side by side convert and look up formats twice)."""
    if not value:
        return ""
    return SafeString(f'<time datetime="{value.isoformat()}">{escape(date_format(value, format_name))}</time>')


_LABELS: dict = {}


@register.filter
def label(obj, field_name: str) -> str:
    """The translated label of a choices field: `{{ item|label:"kind" }}`. Model.get_FOO_display rebuilds
    a dict of all choices at every call; this one is built once per model and field."""
    key = (type(obj), field_name)
    labels = _LABELS.get(key)
    if labels is None:
        labels = _LABELS[key] = dict(type(obj)._meta.get_field(field_name).flatchoices)
    value = getattr(obj, field_name)
    return str(labels.get(value, value))


def _person(user) -> tuple[str, bool]:
    """(name, former staff?) of a message author or event actor; no user means the system."""
    if user is None:
        return gettext("System"), False
    return user.name, not user.is_active


_SPLIT_URLS: dict = {}


def _split_url(message) -> str:
    # reverse() once per ticket and script prefix, not once per message
    key = (message.ticket_id, get_script_prefix())
    prefix = _SPLIT_URLS.get(key)
    if prefix is None:
        if len(_SPLIT_URLS) > 1000:
            _SPLIT_URLS.clear()
        prefix = _SPLIT_URLS[key] = reverse("agent_split", args=[message.ticket.number, 0])[: -len("0/")]
    return f"{prefix}{message.pk}/"


def _rating(message):
    try:
        return message.rating
    except ObjectDoesNotExist:
        return None


@register.simple_tag(takes_context=True)
def timeline_message(context, message) -> dict:
    """What a message shows: `{% timeline_message item as m %}` (split links where `agent_view` is set)."""
    agent_view = context.get("agent_view", False)
    author, former = _person(message.author)
    body = body_for_display(message)
    return {
        "author": author,
        "former": former,
        "kind": label(message, "kind"),
        "channel": label(message, "channel"),
        "time": time_tag(template_localtime(message.created_at)),
        "split_url": _split_url(message) if agent_view else "",
        "shown": body.shown,
        "quoted": body.quoted,
        "files": [
            {
                "url": reverse("attachment_named", args=[a.pk, a.filename]),
                "name": a.filename,
                "is_image": a.is_image,
                "size": filesizeformat(a.size),
            }
            for a in message.attachments.all()
        ],
        "rated": message.kind == "reply" and _rating(message) is not None,
    }


@register.simple_tag
def timeline_event(event) -> dict:
    """What an event shows: `{% timeline_event item as e %}`."""
    actor, former = _person(event.actor)
    return {"actor": actor, "former": former, "time": time_tag(template_localtime(event.created_at))}
