from django import template

from ..message_body import RenderedBody, body_for_display

register = template.Library()


@register.filter
def message_body(message) -> RenderedBody:
    """{% with body=message|message_body %}{{ body.shown }} ... {{ body.quoted }}{% endwith %}"""
    return body_for_display(message)
