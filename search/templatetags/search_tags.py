from django import template

from ..selectors import workspaces_with_counts

register = template.Library()


@register.inclusion_tag("search/_workspace_sidebar.html", takes_context=True)
def workspace_sidebar(context):
    """The agent's workspaces with live counts (two queries, however many workspaces)."""
    request = context["request"]
    current = context.get("workspace")
    return {
        "workspaces": workspaces_with_counts(request.user),
        "current_pk": getattr(current, "pk", None),
    }
