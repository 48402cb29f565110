"""The search's parameters, parsed without touching the database (workspace counts parse many at once).

A workspace stores them as the query-string dict the search form sends, so opening a workspace, the
search page and the sidebar counts all go through parse_filters(). Invalid values are ignored here (the
form shows the errors); anything that names an object (department slug, agent id) is applied inside the
user's visible tickets, so a forged value can only narrow the result, never widen it.
"""

from dataclasses import dataclass, field
from datetime import date

from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from tickets.choices import Priority, Status

from .query import Term, parse_terms

SORTS = {
    "relevance": pgettext_lazy("sort", "Relevance"),
    "newest": pgettext_lazy("sort", "Newest"),
    "oldest": pgettext_lazy("sort", "Oldest"),
    "activity": pgettext_lazy("sort", "Last activity"),
}
STATUS_CHOICES = [("active", pgettext_lazy("ticket status", "Any open")), *Status.choices]
BOOL_KEYS = ("subject_only", "has_attachments", "escalated")
DATE_KEYS = ("created_after", "created_before", "updated_after", "updated_before")
TEXT_KEYS = ("q", "department", "status", "priority", "assignee", "answered_by", "customer", "sort")
KEYS = TEXT_KEYS + DATE_KEYS + BOOL_KEYS
ASSIGNEE_SPECIAL = {"me": _("Me"), "none": _("Nobody")}


@dataclass
class Filters:
    text: str = ""
    terms: list[Term] = field(default_factory=list)
    department: str = ""
    status: str = ""
    priority: int | None = None
    assignee: str | int | None = None  # "me", "none" or a user id
    answered_by: int | None = None
    customer: str = ""
    subject_only: bool = False
    has_attachments: bool = False
    escalated: bool = False
    created_after: date | None = None
    created_before: date | None = None
    updated_after: date | None = None
    updated_before: date | None = None
    sort: str = "relevance"

    @property
    def has_text(self) -> bool:
        return any(not t.negated for t in self.terms)


def _int(value) -> int | None:
    try:
        return int(str(value))
    except (TypeError, ValueError):
        return None


def _date(value) -> date | None:
    try:
        return date.fromisoformat(str(value))
    except (TypeError, ValueError):
        return None


def _bool(value) -> bool:
    return str(value).lower() in ("1", "true", "on", "yes")


def clean_params(data) -> dict[str, str]:
    """Only the known, non-empty parameters of a request's GET/POST (or a stored dict), as strings."""
    result = {}
    for key in KEYS:
        value = data.get(key)
        if value not in (None, "") and len(str(value)) <= 200:
            result[key] = str(value).strip()
    return {k: v for k, v in result.items() if v}


def parse_filters(data) -> Filters:
    p = clean_params(data)
    status = p.get("status", "")
    assignee = p.get("assignee")
    sort = p.get("sort", "relevance")
    return Filters(
        text=p.get("q", ""),
        terms=parse_terms(p.get("q", "")),
        department=p.get("department", ""),
        status=status if status in dict(STATUS_CHOICES) else "",
        priority=_int(p.get("priority")) if _int(p.get("priority")) in Priority.values else None,
        assignee=assignee if assignee in ASSIGNEE_SPECIAL else _int(assignee),
        answered_by=_int(p.get("answered_by")),
        customer=p.get("customer", ""),
        subject_only=_bool(p.get("subject_only")),
        has_attachments=_bool(p.get("has_attachments")),
        escalated=_bool(p.get("escalated")),
        **{k: _date(p.get(k)) for k in DATE_KEYS},
        sort=sort if sort in SORTS else "relevance",
    )
