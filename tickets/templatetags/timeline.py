"""Template tags of the ticket timeline, where every item costs: a page shows 50 messages and their events."""

from django import template
from django.utils.safestring import SafeString

from ..message_body import RenderedBody, body_for_display
from ..models import Message
from ..timeline_html import Page, choice_label, event_html, message_html, time_element

register = template.Library()


@register.simple_tag(takes_context=True)
def timeline_item(context, item) -> SafeString:
    """`{% timeline_item item %}`: a message or an event of the timeline (tickets.timeline_html), with
    split links and undo buttons where the context sets `agent_view`."""
    agent_view = bool(context.get("agent_view", False))
    if isinstance(item, Message):
        return message_html(item, agent_view=agent_view, originals=context.get("originals") or ())
    return event_html(item, agent_view=agent_view, csrf_token=str(context.get("csrf_token", "")))


@register.simple_tag(takes_context=True)
def timeline_items(context, items, agent_view=False) -> SafeString:
    """`{% timeline_items items agent_view=True %}`: what `{% for item in items %}{% timeline_item item %}
    {% endfor %}` renders, the language, words, labels, time zone and date format looked up once."""
    page = Page()
    originals = context.get("originals") or ()
    csrf_token = str(context.get("csrf_token", ""))
    return SafeString("".join(
        message_html(item, agent_view=agent_view, originals=originals, page=page)
        if isinstance(item, Message)
        else event_html(item, agent_view=agent_view, csrf_token=csrf_token, page=page)
        for item in items
    ))  # fmt: skip


@register.filter
def message_body(message) -> RenderedBody:
    """{% with body=message|message_body %}{{ body.shown }} ... {{ body.quoted }}{% endwith %}"""
    return body_for_display(message)


@register.filter(expects_localtime=True)
def time_tag(value, format_name: str = "DATETIME_FORMAT") -> str:
    """<time datetime="ISO">localized date</time>, the value converted to the user's time zone once
    (`|date:'c'` and `|date:"DATETIME_FORMAT"` side by side convert and look up formats twice)."""
    return SafeString(time_element(value, format_name))


@register.filter
def label(obj, field_name: str) -> str:
    """The translated label of a choices field: `{{ ticket|label:"status" }}`."""
    return choice_label(obj, field_name)
