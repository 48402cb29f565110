from django import template
from django.conf import settings

from ..selectors import workspaces_with_counts

register = template.Library()


@register.inclusion_tag("search/_workspace_sidebar.html", takes_context=True)
def workspace_sidebar(context):
    """The agent's workspaces with their counts (two queries however many workspaces; counts at most
    SEARCH_COUNTS_MAX_AGE seconds old, default 20, 0 = always fresh)."""
    request = context["request"]
    current = context.get("workspace")
    return {
        "workspaces": workspaces_with_counts(
            request.user, max_age=getattr(settings, "SEARCH_COUNTS_MAX_AGE", 20)
        ),
        "current_pk": getattr(current, "pk", None),
    }
