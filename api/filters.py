"""Query parameters of the API ticket list: the web search's own parameters (search.filters), validated so
that a bad value is a 400 with a clear message instead of being ignored as on the search form.

The validated values are turned back into the query-string dict the search form sends and go through
search.filters.parse_filters() and search.selectors.search_tickets(), so `?q=сервер&status=active` finds
exactly the tickets that /search/?q=сервер&status=active shows. A few API-only extras that the search
form has no field for (several statuses or priorities at once, `channel`, `escalated=false`, exact
timestamps, `ordering`) narrow or reorder that result afterwards.
"""

from datetime import date, datetime

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from search.filters import SORTS, STATUS_CHOICES
from tickets.choices import ACTIVE_STATUSES, Channel, Priority

ORDERINGS = {
    "-updated_at": ("-updated_at", "-pk"),
    "updated_at": ("updated_at", "pk"),
    "-created_at": ("-created_at", "-pk"),
    "created_at": ("created_at", "pk"),
    "-priority": ("-priority", "-updated_at", "-pk"),
}
DATE_LOOKUPS = {
    "created_after": "created_at__gte",
    "created_before": "created_at__lt",
    "updated_after": "updated_at__gte",
    "updated_before": "updated_at__lt",
}


@extend_schema_field({"type": "string", "description": "YYYY-MM-DD or an ISO 8601 date-time"})
class DateOrDateTimeField(serializers.Field):
    """A day (YYYY-MM-DD, inclusive, in the user's time zone, as on the search form) or an exact ISO 8601
    timestamp (the API's earlier meaning of created_after/updated_after)."""

    default_error_messages = {"invalid": _("Enter a date (YYYY-MM-DD) or an ISO 8601 date and time.")}

    def to_internal_value(self, data):
        try:
            return date.fromisoformat(str(data))
        except ValueError:
            pass
        try:
            return serializers.DateTimeField().to_internal_value(data)
        except serializers.ValidationError:
            self.fail("invalid")

    def to_representation(self, value):
        return value.isoformat()


class TicketFilterSerializer(serializers.Serializer):
    q = serializers.CharField(
        required=False, max_length=200,
        help_text=_('Words in any form, "a phrase", -excluded; subject and conversation (agents: internal '
                    "notes too). A ticket reference (#12345) returns that ticket."),
    )
    status = serializers.MultipleChoiceField(
        choices=STATUS_CHOICES, required=False,
        help_text=_("A status or `active` (any open one); repeat for several."),
    )
    priority = serializers.MultipleChoiceField(choices=Priority.choices, required=False,
                                               help_text=_("Repeat for several."))
    department = serializers.SlugField(required=False, help_text=_("Department slug."))
    assignee = serializers.RegexField(regex=r"^(me|none|\d+)$", required=False,
                                      help_text=_("Agents: me, none or a user id."))
    answered_by = serializers.IntegerField(required=False, min_value=1,
                                           help_text=_("Agents: id of an agent who replied."))
    customer = serializers.CharField(
        required=False, max_length=200,
        help_text=_("Agents: a customer's (or Cc'd participant's) email, or part of a name or address."),
    )
    subject_only = serializers.BooleanField(required=False, default=False,
                                            help_text=_("Search the words in the subject only."))
    has_attachments = serializers.BooleanField(required=False, default=False)
    escalated = serializers.BooleanField(required=False, allow_null=True, default=None,
                                         help_text=_("Agents: true for escalated tickets, false for the others."))
    created_after = DateOrDateTimeField(required=False)
    created_before = DateOrDateTimeField(required=False)
    updated_after = DateOrDateTimeField(required=False)
    updated_before = DateOrDateTimeField(required=False)
    sort = serializers.ChoiceField(
        choices=list(SORTS), required=False,
        help_text=_("As on the search page: relevance (with words; else last activity), newest, oldest, activity."),
    )
    channel = serializers.MultipleChoiceField(choices=Channel.choices, required=False,
                                              help_text=_("API only: how the ticket came in; repeat for several."))
    ordering = serializers.ChoiceField(choices=list(ORDERINGS), required=False,
                                       help_text=_("API only: overrides sort."))


def search_params(data: dict) -> dict[str, str]:
    """The validated filters as the search form's query-string dict (for search.filters.parse_filters)."""
    params = {k: str(data[k]) for k in ("q", "department", "assignee", "answered_by", "customer", "sort") if data.get(k)}
    for key in ("status", "priority"):
        if len(data.get(key) or ()) == 1:
            params[key] = str(next(iter(data[key])))
    for key in ("subject_only", "has_attachments"):
        if data.get(key):
            params[key] = "1"
    if data.get("escalated"):
        params["escalated"] = "1"
    for key in DATE_LOOKUPS:
        if isinstance(data.get(key), date) and not isinstance(data[key], datetime):
            params[key] = data[key].isoformat()
    return params


def api_extras(qs, data: dict):
    """What the search form cannot say: several statuses/priorities, channel, escalated=false, timestamps."""
    if len(data.get("status") or ()) > 1:
        statuses = {s for v in data["status"] for s in (ACTIVE_STATUSES if v == "active" else [v])}
        qs = qs.filter(status__in=statuses)
    if len(data.get("priority") or ()) > 1:
        qs = qs.filter(priority__in=list(data["priority"]))
    if data.get("channel"):
        qs = qs.filter(channel__in=list(data["channel"]))
    if data.get("escalated") is False:
        qs = qs.filter(escalated_at__isnull=True)
    for key, lookup in DATE_LOOKUPS.items():
        if isinstance(data.get(key), datetime):
            value = data[key] if timezone.is_aware(data[key]) else timezone.make_aware(data[key])
            qs = qs.filter(**{lookup: value})
    if data.get("ordering"):
        qs = qs.order_by(*ORDERINGS[data["ordering"]])
    return qs
