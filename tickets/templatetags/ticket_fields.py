from django import template

from ..fields import field_rows

register = template.Library()


@register.simple_tag
def ticket_field_rows(ticket) -> list[tuple[str, str, bool]]:
    """{% ticket_field_rows ticket as rows %}: the ticket's structured details, labelled, in form order."""
    return field_rows(ticket.fields or {})
