from django import template
from django.utils.safestring import mark_safe

from ..selectors import display_body, html_with_inline_images

register = template.Library()


@register.filter
def quoted_parts(message):
    """{% with parts=message|quoted_parts %}{{ parts.new }} ... {{ parts.quoted }}{% endwith %}"""
    return display_body(message)


@register.filter
def inline_html(message):
    """The message HTML with cid: images resolved. Safe: body_html is sanitized (bleach) when stored."""
    return mark_safe(html_with_inline_images(message))  # noqa: S308 - sanitized before storing
