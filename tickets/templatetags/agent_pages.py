"""Template tags of the agent pages that reuse work across requests (tickets.page_cache)."""

from django import template
from django.conf import settings
from django.template.loader import get_template
from django.utils.safestring import SafeString
from django.utils.translation import get_language

from search.templatetags.search_tags import workspace_sidebar

from .. import page_cache

register = template.Library()


@register.simple_tag(takes_context=True)
def agent_workspace_sidebar(context) -> SafeString:
    """search's `{% workspace_sidebar %}` (the agent's saved workspaces with their counts), its HTML reused
    for at most HELPDESK_QUEUE_COUNTS_MAX_AGE seconds (and never longer than SEARCH_COUNTS_MAX_AGE, the
    age search allows its counts): the list query and the rendering cost more than the queue's rows.
    Saving or deleting a workspace, a membership or a user renders it afresh at the next load."""
    request = context["request"]
    current = getattr(context.get("workspace"), "pk", None)
    max_age = min(page_cache.queue_counts_max_age(), getattr(settings, "SEARCH_COUNTS_MAX_AGE", 20))

    def render(_missing):
        # Rendered as the inclusion tag renders it: its own small context, no context processors.
        html = get_template("search/_workspace_sidebar.html").render(workspace_sidebar(context))
        return {page_cache.DIRECTORY: html}

    extra = f"{request.user.pk}:{get_language()}:{current}"
    found = page_cache.cached_per_scope("sidebar", [page_cache.DIRECTORY], render, max_age=max_age, extra=extra)
    return SafeString(found[page_cache.DIRECTORY])
