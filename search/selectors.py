"""Reads: ticket search (full-text on PostgreSQL, substring matching on SQLite), snippets, workspaces.

Access is decided once, by departments.permissions.visible_tickets(): an agent searches his departments'
tickets, a customer his own; everything else here only narrows that set. For an agent the same rule is
written with his department ids as constants (_scope()), which PostgreSQL plans far better at scale.
"""

import hashlib
from contextlib import contextmanager
from datetime import datetime, time, timedelta

from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import Exists, F, IntegerField, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.db.models.lookups import Contains, Exact
from django.http import Http404
from django.utils import timezone

from accounts.models import User
from departments.models import Membership
from departments.permissions import is_agent, managed_departments, visible_departments, visible_tickets
from tickets.choices import ACTIVE_STATUSES
from tickets.models import Attachment, Message, Participant, Ticket

from .filters import Filters, parse_filters
from .models import SavedSearch, TicketVector
from .query import (
    Casefold,
    Coalesced,
    Matches,
    Rank,
    Term,
    TSQuery,
    VectorOf,
    all_vector,
    notes_vector,
    parse_terms,
    positive,
    public_vector,
)

# Memory for one ranked search's bitmaps: with the default 4MB the bitmap of a common word's GIN matches
# (283,000 tickets for "server" at 1M) turns lossy, and PostgreSQL then re-reads and re-tests the large
# search_public of every ticket of the department in the date range (at 1M: 170 ms instead of 90 ms).
# And no JIT: the planner's cost of a search over a million tickets passes jit_above_cost, and compiling
# the query (7 ms and more) costs more than it saves on a few thousand rows.
# Set for the search's own queries only (SET LOCAL), not for the whole connection.
SEARCH_WORK_MEM = "32MB"
RESULT_CAP = 1000  # counts stop here ("1000+"): an exact count of a common word would read every match
SORT_ORDER = {
    "newest": ["-created_at", "-pk"],
    "oldest": ["created_at", "pk"],
    "activity": ["-updated_at", "-pk"],
}


def full_text() -> bool:
    return connection.vendor == "postgresql"


def search_tickets(*, user, filters: Filters, departments: dict[str, int] | None = None) -> QuerySet[Ticket]:
    """The user's visible tickets matching the filters, sorted, with customer/department/assignee.
    departments: the agent's departments (agent_departments()) when the caller has them already."""
    agent = is_agent(user)
    departments = _departments(user, filters, departments)
    qs = _scope(user, departments).select_related("customer", "department", "assignee")
    qs = _apply_filters(qs, filters, user=user, agent=agent, departments=departments)
    if filters.has_text:
        qs = _apply_text(qs, filters, agent=agent)
    return _sorted(qs, filters)


def search_matches(*, user, filters: Filters, departments: dict[str, int] | None = None) -> QuerySet:
    """What a result page and a count need: the matches, sorted, whose "pk" is the ticket id.

    An agent's text search filtered (if at all) by department, dates and "any open" only, the common case,
    is a query of search_ticketvector alone, which holds copies of those columns: ranking a common word reads
    thousands of matches, and a join to tickets_ticket for each would cost more than the ranking
    (benchmarks/sla.md, docs/search.md). Anything else is search_tickets()."""
    departments = _departments(user, filters, departments)
    if departments is None or not filters.has_text or not full_text() or not _vectors_suffice(filters):
        return search_tickets(user=user, filters=filters, departments=departments)
    qs = TicketVector.objects.filter(department_id__in=sorted(departments.values()) or [0])
    if filters.status == "active":
        qs = qs.filter(active=True)
    qs = _apply_text(_apply_dates(qs, filters), filters, agent=True, on="")
    return _sorted(qs, filters)


def _vectors_suffice(f: Filters) -> bool:
    """Whether TicketVector's copies (department, dates, "any open") answer every filter but the text."""
    ticket_columns = (f.status not in ("", "active"), f.priority, f.assignee, f.answered_by, f.customer, f.subject_only,
                      f.has_attachments, f.escalated)
    return not any(ticket_columns)


def _departments(user, filters: Filters, departments: dict[str, int] | None) -> dict[str, int] | None:
    """An agent's departments (slug -> id), narrowed to the department filter; None for customers and
    admins (whose visible tickets are not a list of departments)."""
    if is_agent(user) and departments is None and not user.is_superuser and user.is_active:
        departments = agent_departments(user)
    if departments is not None and filters.department:  # one department: "IN (all) AND = one" misleads the
        departments = {filters.department: departments.get(filters.department, 0)}  # planner's estimate
    return departments


def _sorted(qs: QuerySet, filters: Filters) -> QuerySet:
    if filters.has_text and filters.sort == "relevance" and full_text():
        return qs.order_by("-rank", "-updated_at", "-pk")
    return qs.order_by(*SORT_ORDER.get(filters.sort, SORT_ORDER["activity"]))


def _scope(user, departments: dict[str, int] | None) -> QuerySet[Ticket]:
    """visible_tickets(user), an agent's departments as constants ("department_id = ANY('{2,9}')"), as the
    queue does (tickets.agent_selectors._scope): planned against a membership semi-join, an unselective
    condition ("unassigned", "escalated", text with a date) becomes a walk of the whole table; with the ids
    PostgreSQL reads the department ranges of the active or queue indexes. Costs one small query."""
    if departments is None:  # customers and admins
        return visible_tickets(user)
    ids = sorted(departments.values()) or [0]  # [0]: no department, no ticket (there is no id 0)
    return Ticket.objects.filter(department_id__in=ids)


def agent_departments(user) -> dict[str, int]:
    """slug -> id of the departments an agent (not an admin) is a member of."""
    return dict(Membership.objects.filter(user=user).values_list("department__slug", "department_id"))


def _local_day_start(day) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min), timezone.get_current_timezone())


def _apply_filters(qs: QuerySet, f: Filters, *, user, agent: bool, departments: dict | None) -> QuerySet:
    if f.department and departments is None:  # else _scope() has it (an id, whose size the planner knows)
        qs = qs.filter(department__slug=f.department)
    if f.status == "active":
        qs = qs.filter(status__in=ACTIVE_STATUSES)
    elif f.status:
        qs = qs.filter(status=f.status)
    if f.priority:
        qs = qs.filter(priority=f.priority)
    if agent:
        qs = _apply_agent_filters(qs, f, user)
    qs = _apply_dates(qs, f)
    if f.has_attachments:
        kinds = Message.Kind.values if agent else Message.PUBLIC_KINDS
        qs = qs.filter(
            Exists(Attachment.objects.filter(message__ticket=OuterRef("pk"), message__kind__in=kinds))
        )
    return qs


def _apply_dates(qs: QuerySet, f: Filters) -> QuerySet:
    """created_at / updated_at: columns of Ticket and (copies) of TicketVector alike."""
    for key, lookup, after in (
        ("created_after", "created_at__gte", False),
        ("created_before", "created_at__lt", True),
        ("updated_after", "updated_at__gte", False),
        ("updated_before", "updated_at__lt", True),
    ):
        day = getattr(f, key)
        if day:
            qs = qs.filter(**{lookup: _local_day_start(day + timedelta(days=1) if after else day)})
    return qs


def _apply_agent_filters(qs: QuerySet, f: Filters, user) -> QuerySet:
    if f.assignee == "me":
        qs = qs.filter(assignee=user)
    elif f.assignee == "none" and f.status == "active" and full_text():
        # Read as a filter on the department's active tickets (ticket_queue_idx, as the queue counts do):
        # as "assignee_id IS NULL" PostgreSQL ANDs it with ticket_assignee_idx's million unassigned rows.
        qs = qs.filter(Exact(Coalesce("assignee_id", 0), 0))
    elif f.assignee == "none":
        qs = qs.filter(assignee__isnull=True)
    elif f.assignee:
        qs = qs.filter(assignee_id=f.assignee)
    if f.answered_by:
        qs = qs.filter(
            Exists(Message.objects.filter(ticket=OuterRef("pk"), kind=Message.Kind.REPLY, author_id=f.answered_by))
        )
    if f.customer:
        qs = qs.filter(_customer_condition(f.customer))
    if f.escalated:
        qs = qs.filter(escalated_at__isnull=False)
    return qs


def _customer_condition(value: str) -> Q:
    """A customer by email (or a Cc'd participant of the conversation), or by part of name or address."""
    if "@" in value:
        cc = Participant.objects.filter(ticket=OuterRef("pk"), email__iexact=value)
        return Q(customer__email__iexact=value) | Q(Exists(cc))
    return Q(customer__display_name__icontains=value) | Q(customer__email__icontains=value)


def _apply_text(qs: QuerySet, f: Filters, *, agent: bool, on: str = "search_vector__") -> QuerySet:
    """on: the path from the queryset's model to the vectors (see search.query.public_vector)."""
    if not full_text():
        return qs.filter(_substring_condition(f.terms, agent=agent, subject_only=f.subject_only))
    query, any_term = TSQuery(f.terms), TSQuery(f.terms, any_term=True)
    public, notes = public_vector(on), notes_vector(on)
    if f.subject_only:
        # The GIN index finds the candidates, the subject's own lexemes decide.
        qs = qs.filter(Matches(public, query), Matches(VectorOf("subject"), query))
        return qs.annotate(rank=Rank(public, query))
    if not agent:
        return qs.filter(Matches(public, query)).annotate(rank=Rank(public, query))
    # Agents search the conversation and the notes together: all words may be spread over both. Both GIN
    # indexes find candidates (every term in the public text, or any term in the notes); the concatenated
    # vector decides only when that can differ from the first test.
    qs = qs.filter(Q(Matches(public, query)) | Q(Matches(notes, any_term)))
    if len(f.terms) > 1:
        qs = qs.filter(Matches(all_vector(on), query))
    # Two ranks added: cheaper than ranking the concatenated vector (a merge of both per row).
    return qs.annotate(rank=Rank(public, query) + Rank(Coalesced(notes), query))


def _substring_condition(terms: list[Term], *, agent: bool, subject_only: bool) -> Q:
    """SQLite: every term a case-insensitive substring of the subject or a message (no stemming)."""
    kinds = Message.Kind.values if agent else list(Message.PUBLIC_KINDS)
    condition = Q()
    for term in terms:
        needle = term.text.casefold()
        q = Q(Contains(Casefold(F("subject")), needle))
        if not subject_only:
            body = Message.objects.filter(
                Contains(Casefold(F("body_text")), needle), ticket=OuterRef("pk"), kind__in=kinds
            )
            q |= Q(Exists(body))
        condition &= ~q if term.negated else q
    return condition


def public_text_condition(text: str) -> Q | None:
    """For the customer cabinet: the words (any form) in the subject or the public conversation.
    None on SQLite, where the cabinet's own substring search is all there is."""
    terms = parse_terms(text)
    if not full_text() or not positive(terms):
        return None
    return Q(Matches(public_vector(), TSQuery(terms)))


class CappedResults:
    """A queryset for Paginator whose count stops at RESULT_CAP + 1 (pages beyond the cap are not offered).

    A page is read in two steps: the ids of the page in order (a narrow query: the sort reads only
    rank, date and id of every match), then those rows with their customer, department and assignee.
    Joining first would drag every match's wide row through the sort.

    Sorted by relevance, every match is ranked whatever the page, so the count and the page come from one
    query: the ids of the first RESULT_CAP + 1 matches in order (a top-N sort of a thousand rows costs
    next to nothing beside ranking), kept for the page. Sorted by a column, the count reads ids only and
    stops at the cap, and the page is a LIMIT along an index."""

    ordered = True

    def __init__(self, qs: QuerySet, cap: int = RESULT_CAP):
        self.qs, self.cap = qs, cap
        self._count = None
        self._ids = None

    @property
    def ranked(self) -> bool:
        return bool(self.qs.query.order_by) and self.qs.query.order_by[0] == "-rank"

    def count(self) -> int:
        if self._count is None:
            if self.ranked:
                with search_memory():
                    self._ids = list(self.qs.values_list("pk", flat=True)[: self.cap + 1])
                self._count = len(self._ids)
            else:
                with search_memory():
                    self._count = self.qs.order_by().values("pk")[: self.cap + 1].count()  # no rank for counting
        return min(self._count, self.cap)

    @property
    def capped(self) -> bool:
        self.count()
        return self._count > self.cap

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, item):
        if not isinstance(item, slice):
            return self[item : item + 1][0]
        if self._ids is not None and (item.stop or 0) <= self.cap:
            ids = self._ids[item]
        else:
            with search_memory():
                ids = list(self.qs.values_list("pk", flat=True)[item])
        rows = Ticket.objects.filter(pk__in=ids).select_related("customer", "department", "assignee")
        by_pk = {t.pk: t for t in rows}
        return [by_pk[pk] for pk in ids if pk in by_pk]


@contextmanager
def search_memory():
    """SEARCH_WORK_MEM and no JIT for the queries inside (in a transaction, or the request's if there is)."""
    if not full_text():
        yield
        return
    with transaction.atomic(savepoint=False):
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config('work_mem', %s, true), set_config('jit', 'off', true)", [SEARCH_WORK_MEM])
        yield


def ticket_by_reference(*, user, text: str) -> Ticket | None:
    """The visible ticket whose reference the search text is (#12345, 12345, [#12345]), if any."""
    raw = text.strip().strip("[]").lstrip("#")
    if not raw.isdigit() or len(raw) > 18:
        return None
    return visible_tickets(user).filter(number=int(raw)).first()


# --- Workspaces ----------------------------------------------------------------------------------------


def visible_workspaces(user) -> QuerySet[SavedSearch]:
    """Own workspaces and those shared with the user's departments."""
    if not is_agent(user):
        return SavedSearch.objects.none()
    return SavedSearch.objects.filter(
        Q(owner=user) | Q(department__in=visible_departments(user).values("pk"))
    ).distinct()


def workspace_for(user, pk: int, *, edit: bool = False) -> SavedSearch:
    """A workspace the user may open (or, with edit=True, change: its owner, or a manager of the department
    it is shared with); else Http404."""
    qs = visible_workspaces(user).select_related("department", "owner")
    if edit:
        qs = qs.filter(Q(owner=user) | Q(department__in=managed_departments(user).values("pk")))
    try:
        return qs.get(pk=pk)
    except (SavedSearch.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc


def _count_subquery(user, filters: dict, departments) -> Subquery:
    qs = search_matches(user=user, filters=parse_filters(filters), departments=departments).order_by()
    return CappedCount(qs.values("pk")[: RESULT_CAP + 1])


class CappedCount(Subquery):
    template = "(SELECT count(*) FROM (%(subquery)s) _capped)"
    output_field = IntegerField()


def workspaces_with_counts(user, *, max_age: int = 0) -> list[SavedSearch]:
    """The sidebar: department defaults, then own, then shared workspaces, each with `.count` (capped at
    RESULT_CAP + 1) — four queries however many workspaces there are (the list, the agent's departments,
    the search settings, and one statement of bounded counts, each a LIMIT RESULT_CAP + 1 subquery).

    With max_age, counts computed less than max_age seconds ago for the same workspaces (ids, filters,
    last change) are reused from the cache: the sidebar shows on every queue page, and building and
    compiling one search per workspace costs more than the queue itself."""
    workspaces = list(visible_workspaces(user).select_related("department").order_by("-is_default", "name", "pk"))
    if not workspaces:
        return []
    key = _counts_key(user, workspaces)
    counts = cache.get(key) if max_age else None
    if counts is None:
        departments = None if user.is_superuser else agent_departments(user)
        annotations = {f"c{w.pk}": Coalesce(_count_subquery(user, w.filters, departments), 0) for w in workspaces}
        with search_memory():
            counts = User.objects.filter(pk=user.pk).values(**annotations).first() or {}
        if max_age:
            cache.set(key, counts, max_age)
    for w in workspaces:
        w.count = counts.get(f"c{w.pk}", 0)
        w.count_capped = w.count > RESULT_CAP
        w.shared_by_other = w.owner_id != user.pk
    return workspaces


def _counts_key(user, workspaces) -> str:
    state = repr([(w.pk, w.updated_at.isoformat(), w.filters) for w in workspaces])
    return f"search:counts:{user.pk}:{hashlib.sha256(state.encode()).hexdigest()[:32]}"


def agents_for_filters(user) -> list[User]:
    """Agents of the user's departments (assignee and "answered by" choices), one query."""
    return list(
        User.objects.filter(is_agent=True, memberships__department__in=visible_departments(user).values("pk"))
        .distinct()
        .order_by("display_name", "email")
    )

