"""Template tags of the agent pages that reuse work across requests (tickets.page_cache)."""

from django import template
from django.conf import settings
from django.forms.widgets import FileInput, Input
from django.template.loader import get_template
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString
from django.utils.translation import get_language

from search.templatetags.search_tags import workspace_sidebar

from .. import page_cache
from ..queue_html import options as _options

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


@register.filter
def options(pairs, selected=None) -> SafeString:
    """`{{ choices.agents|options:ticket.assignee_id }}`: the <option> elements of (value, label) pairs, the
    one equal to `selected` marked — a menu's loop in Python (the template loop cost ~25 µs an option)."""
    return _options(pairs, selected)


# Widget HTML of unbound forms (the reply and note forms, the side panel's inputs): rendering a widget goes
# through Django's form templates (~60-200 µs each, a dozen a page). Unbound, the HTML depends only on the
# form class, the field, the language and the value; an input's value is put in at each call.
_WIDGETS: dict = {}
_VALUE = "\ue000"  # a private-use character: escapes to itself and appears in no label


@register.filter
def widget(bound_field):
    """`{{ form.body|widget }}` renders what `{{ form.body }}` renders. Only for fields defined on the form
    class (not changed per instance in __init__): their unbound HTML is memoized."""
    form = bound_field.form
    if form.is_bound:
        return bound_field
    value = bound_field.value()
    field_widget = bound_field.field.widget
    if bound_field.field.show_hidden_initial or bound_field.field.localize:
        return bound_field
    by_value = isinstance(field_widget, Input) and not isinstance(field_widget, FileInput) and value not in (None, "")
    key = (type(form), form.prefix, form.auto_id, bound_field.name, get_language(), None if by_value else value)
    try:
        html = _WIDGETS.get(key)
    except TypeError:  # an unhashable value
        return bound_field
    if html is None:
        if len(_WIDGETS) > 500:
            _WIDGETS.clear()
        html = _render_with_placeholder(bound_field) if by_value else str(bound_field)
        _WIDGETS[key] = html
    if by_value:
        return SafeString(html.replace(_VALUE, conditional_escape(field_widget.format_value(value))))
    return SafeString(html)


def _render_with_placeholder(bound_field) -> str:
    """BoundField.as_widget() with the placeholder as the value."""
    field_widget = bound_field.field.widget
    attrs = bound_field.build_widget_attrs({}, field_widget)
    if bound_field.auto_id and "id" not in field_widget.attrs:
        attrs.setdefault("id", bound_field.auto_id)
    return str(field_widget.render(bound_field.html_name, _VALUE, attrs, renderer=bound_field.form.renderer))
