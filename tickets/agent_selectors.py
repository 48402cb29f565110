"""Reads for the agent workspace: queues (filter, sort, counts), the ticket timeline, activity markers.

Each function costs a fixed number of queries whatever the number of rows, so queue and ticket pages
stay constant-cost (pinned by tests)."""

from contextlib import contextmanager
from datetime import timedelta

from django.db import connection, transaction
from django.db.models import Count, F, Q, QuerySet
from django.utils import timezone
from django.utils.translation import get_language, pgettext_lazy
from django.utils.translation import gettext as _

from accounts.models import User
from departments.models import Department, Membership
from departments.permissions import managed_departments, visible_departments, visible_tickets
from sla.selectors import TARGET_LABELS

from . import page_cache
from .choices import ACTIVE_STATUSES, DONE_STATUSES, Priority, Status
from .collation import natural_order
from .models import Message, Product, Ticket, TicketEvent, TicketLink
from .selectors import conversation

RECENTLY_CLOSED = timedelta(days=30)

QUEUE_LABELS = {
    "active": pgettext_lazy("queue", "All open"),
    "new": pgettext_lazy("queue", "New"),
    "open": pgettext_lazy("queue", "Open"),
    "pending": pgettext_lazy("queue", "Pending customer"),
    "mine": pgettext_lazy("queue", "My tickets"),
    "unassigned": pgettext_lazy("queue", "Unassigned"),
    "escalated": pgettext_lazy("queue", "Escalated / overdue"),
    "closed": pgettext_lazy("queue", "Recently closed"),
}

# Sort key in the URL -> model ordering. Ties always break on -pk so pages never overlap.
SORTS = {
    "reference": "number",
    "subject": "subject",
    "customer": "customer__display_name",
    "status": "status",
    "priority": "priority",
    "assignee": "assignee__display_name",
    "activity": "updated_at",
    "waiting": "waiting_since",
}
DEFAULT_SORT = "-activity"


def _overdue(now) -> Q:
    return (
        Q(escalated_at__isnull=False)
        | Q(first_response_due_at__lte=now)
        | Q(next_response_due_at__lte=now)
        | Q(resolution_due_at__lte=now)
    )


def queue_conditions(user, now) -> dict[str, Q]:
    active = Q(status__in=ACTIVE_STATUSES)
    return {
        "active": active,
        "new": Q(status=Status.NEW),
        "open": Q(status=Status.OPEN),
        "pending": Q(status=Status.PENDING),
        "mine": active & Q(assignee=user),
        "unassigned": active & Q(assignee__isnull=True),
        "escalated": active & _overdue(now),
        "closed": Q(status__in=DONE_STATUSES, updated_at__gte=now - RECENTLY_CLOSED),
    }


def _scope(user, department: Department | None, within: list[int] | None = None) -> QuerySet[Ticket]:
    """The tickets a queue looks at. `within`: ids of the user's visible departments when the caller has
    loaded them already (the queue page has, with their counts); they go into the SQL as constants, so
    PostgreSQL reads "department_id = ANY(...)" ranges of the queue indexes. Without them the scope is
    visible_tickets(user), whose membership semi-join the planner may answer by walking a whole index."""
    if within is None:
        qs = visible_tickets(user)
        return qs.filter(department=department) if department is not None else qs
    if department is not None:
        return Ticket.objects.filter(department_id=department.pk if department.pk in within else None)
    return Ticket.objects.filter(department_id__in=within)


def queue_tickets(
    *, user, department=None, queue: str = "active", sort: str = DEFAULT_SORT, within: list[int] | None = None
) -> QuerySet[Ticket]:
    conditions = queue_conditions(user, timezone.now())
    qs = _scope(user, department, within).filter(conditions.get(queue, conditions["active"]))
    return qs.select_related("customer", "department", "assignee").order_by(*ordering(sort))


TEXT_SORTS = {"subject", "customer", "assignee"}  # sorted like a dictionary, Cyrillic included


# Columns that are never NULL sort without NULLS LAST, so "ORDER BY updated_at DESC, id DESC" matches the
# partial queue indexes (SQLite cannot declare NULLS LAST in an index).
NOT_NULL_SORTS = {"reference", "status", "priority", "activity"}


def ordering(sort: str) -> list:
    key = sort.lstrip("-") if sort.lstrip("-") in SORTS else DEFAULT_SORT.lstrip("-")
    expr = natural_order(SORTS[key]) if key in TEXT_SORTS else F(SORTS[key])
    nulls = {} if key in NOT_NULL_SORTS else {"nulls_last": True}
    if sort.startswith("-"):
        return [expr.desc(**nulls), "-pk"]
    return [expr.asc(**nulls), "-pk"]


def queue_counts(*, user, department=None, within: list[int] | None = None) -> dict[str, int]:
    """All queue counts of the scope: one aggregate over the active tickets (the partial index
    ticket_active_dept_idx or the active ranges of ticket_queue_idx) and one count of the recently closed
    (a range of ticket_queue_idx). One query with "active OR recently closed" would be planned as a walk
    through every ticket of the departments, 50,000 each at a million tickets."""
    conditions = queue_conditions(user, timezone.now())
    scope = _scope(user, department, within)
    active = {name: q for name, q in conditions.items() if name != "closed"}
    counts = scope.filter(conditions["active"]).aggregate(**{name: Count("pk", filter=q) for name, q in active.items()})
    counts["closed"] = scope.filter(conditions["closed"]).count()
    return counts


def agent_departments(user) -> list[Department]:
    """The agent's departments (admins: all), each with `.membership_role`, in one query: read on every
    queue page, never cached, since it decides what the agent may see."""
    departments = visible_departments(user)
    if not user.is_superuser:  # his role in each, from the membership join the filter made anyway
        departments = departments.annotate(membership_role=F("memberships__role"))
    return list(departments.order_by("position", "name"))


def department_queue_counts(user, department_ids) -> dict[int, dict[str, int]]:
    """Every queue's count in each department: one aggregate over the active tickets grouped by department
    (ranges of the partial index ticket_active_dept_idx / ticket_queue_idx) and one count of the recently
    closed (a range of ticket_queue_idx). One query with "active OR recently closed" would be planned as
    a walk through every ticket of the departments, 50,000 each at a million tickets."""
    ids = [int(pk) for pk in department_ids]
    counts = {pk: dict.fromkeys(QUEUE_LABELS, 0) for pk in ids}
    if not ids:
        return counts
    conditions = queue_conditions(user, timezone.now())
    active = {name: Count("pk", filter=q) for name, q in conditions.items() if name != "closed"}
    with _serial_plans():
        rows = (
            Ticket.objects.filter(conditions["active"], department_id__in=ids)
            .order_by()
            .values("department_id")
            .annotate(**active)
        )
        for row in rows:
            counts[row.pop("department_id")].update(row)
        closed = (
            Ticket.objects.filter(conditions["closed"], department_id__in=ids)
            .order_by()
            .values("department_id")
            .annotate(n=Count("*"))  # not COUNT(id): counted from ticket_queue_idx alone (index-only)
            .values_list("department_id", "n")
        )
        for pk, n in closed:
            counts[pk]["closed"] = n
    return counts


@contextmanager
def _serial_plans():
    """No parallel plan for the queries inside (PostgreSQL; in a transaction, or the caller's). The
    benchmark's 1 M open filler tickets make PostgreSQL expect ~25,000 active tickets per department (there
    are ~1,000) and plan the counts of two departments with two parallel workers: 18 ms, of which ~10 ms
    starting the workers, against 8 ms in the backend alone."""
    if connection.vendor != "postgresql":
        yield
        return
    with transaction.atomic(savepoint=False):
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config('max_parallel_workers_per_gather', '0', true)")
        yield


def cached_queue_counts(user, department_ids) -> dict[int, dict[str, int]]:
    """department_queue_counts through the page cache (tickets.page_cache): a department's counts are
    recomputed after any change to its tickets, else at most HELPDESK_QUEUE_COUNTS_MAX_AGE seconds old."""
    return page_cache.cached_per_scope(
        "counts",
        list(department_ids),
        lambda missing: department_queue_counts(user, missing),
        max_age=page_cache.queue_counts_max_age(),
        extra=str(user.pk),  # "mine" is the agent's own
    )


def total_counts(per_department: dict[int, dict[str, int]], department_ids) -> dict[str, int]:
    """The counts of a scope of several departments (the "all my departments" page): their sums."""
    total = dict.fromkeys(QUEUE_LABELS, 0)
    for pk in department_ids:
        for name, n in per_department[pk].items():
            total[name] += n
    return total


def manages_departments(user) -> bool:
    """managed_departments(user).exists() — the navigation's links to the managers' pages — through the
    page cache (until a membership or user changes; it decides which links show, not what they open)."""
    return _cached_menus(f"manages:{user.pk}", lambda: managed_departments(user).exists())


def manages_any(user, departments: list[Department]) -> bool:
    """managed_departments(user).exists() (the navigation's `manages_departments`) answered from the list
    agent_departments loaded: no query."""
    if user.is_superuser:
        return bool(departments)  # an admin manages every department
    return any(d.membership_role == Membership.Role.MANAGER for d in departments)


# Both bulk menus in one written-out query (see _META_CHOICES_SQL): colleagues from the given departments,
# then the active departments, each numbered in its menu's order.
_BULK_MENUS_SQL = """
    SELECT 0, row_number() OVER (ORDER BY u.display_name, u.email), u.id, u.display_name, u.email FROM {user} u
     WHERE u.is_active AND u.id IN (SELECT user_id FROM {membership} WHERE department_id IN ({within}))
    UNION ALL
    SELECT 1, row_number() OVER (ORDER BY d.position, d.name), d.id, d.name, NULL FROM {department} d WHERE d.is_active
    ORDER BY 1, 2"""


def bulk_menus(user, *, within: list[int] | None = None) -> dict[str, list[tuple[int, str]]]:
    """Choices of the queue's bulk-action menus as plain (id, label) pairs: colleagues from the agent's
    departments (as BulkForm validates them; `within`: their ids when already loaded) and the departments
    one may transfer to. Cached (tickets.page_cache) until a user, membership or department changes."""
    if within is None:
        within = list(visible_departments(user).values_list("pk", flat=True))
    within = sorted(int(pk) for pk in within)
    return _cached_menus(f"bulk:{','.join(map(str, within))}", lambda: _bulk_menus(within))


def _cached_menus(extra: str, compute):
    return page_cache.cached_per_scope(
        "menus", [page_cache.DIRECTORY], lambda _missing: {page_cache.DIRECTORY: compute()},
        max_age=page_cache.menus_max_age(), extra=extra,
    )[page_cache.DIRECTORY]  # fmt: skip


def _bulk_menus(within: list[int]) -> dict[str, list[tuple[int, str]]]:
    sql = _BULK_MENUS_SQL.format(
        user=User._meta.db_table,
        membership=Membership._meta.db_table,
        department=Department._meta.db_table,
        within=", ".join(["%s"] * len(within)) or "NULL",
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [int(pk) for pk in within])
        rows = cursor.fetchall()
    menus = {0: [], 1: []}
    for menu, _position, pk, name, email in rows:
        menus[menu].append((pk, (name or email.split("@", 1)[0]) if menu == 0 else name))
    return {"agents": menus[0], "departments": menus[1]}


# --- Ticket page -------------------------------------------------------------------------------------


# The three menus in one query, written out (like the poll's): three ORM querysets cost ~1 ms of CPU each
# to build and compile, more than PostgreSQL spends on them. Each part is numbered in its menu's order.
_META_CHOICES_SQL = """
    SELECT 0, row_number() OVER (ORDER BY u.display_name, u.email), u.id, u.display_name, u.email
      FROM {user} u JOIN {membership} m ON m.user_id = u.id WHERE m.department_id = %(department)s AND u.is_active
    UNION ALL
    SELECT 1, row_number() OVER (ORDER BY p.position, p.name), p.id, p.name, NULL FROM {product} p WHERE p.is_active
    UNION ALL
    SELECT 2, row_number() OVER (ORDER BY d.position, d.name), d.id, d.name, NULL
      FROM {department} d WHERE d.is_active AND d.id <> %(department)s
    ORDER BY 1, 2"""


def meta_choices(ticket: Ticket) -> dict[str, list[tuple]]:
    """Choices of the side panel's menus as (value, label) pairs, the same ones its forms validate:
    the department's active agents, priorities, active products, other active departments. The menus
    from the database are cached (tickets.page_cache) until a user, membership, department or product
    changes."""
    menus = _cached_menus(f"meta:{int(ticket.department_id)}", lambda: _meta_menus(ticket.department_id))
    return {
        "agents": menus[0],
        "priorities": [(value, str(label)) for value, label in Priority.choices],
        "products": menus[1],
        "departments": menus[2],
    }


def _meta_menus(department_id: int) -> dict[int, list[tuple]]:
    tables = {
        "user": User._meta.db_table,
        "membership": Membership._meta.db_table,
        "product": Product._meta.db_table,
        "department": Department._meta.db_table,
    }
    with connection.cursor() as cursor:
        cursor.execute(_META_CHOICES_SQL.format(**tables), {"department": department_id})
        rows = cursor.fetchall()
    menus = {0: [], 1: [], 2: []}
    for menu, _position, pk, name, email in rows:
        menus[menu].append((pk, (name or email.split("@", 1)[0]) if menu == 0 else name))
    return menus


def timeline(ticket: Ticket) -> list:
    """The conversation with internal notes and events, messages split into new text and quoted text,
    events described in words (names looked up in one query per kind of referenced object)."""
    items = conversation(ticket, include_internal=True)
    events = [i for i in items if isinstance(i, TicketEvent)]
    names = _referenced_names(events)
    for item in items:
        if not isinstance(item, Message):  # message bodies are split for display by mailgateway's partial
            item.summary = describe_event(item, names)
            item.can_undo = (
                item.kind == TicketEvent.Kind.MERGED and "source" in item.data and not item.data.get("undone")
            )
    return items


def _referenced_names(events) -> dict:
    ids = {"user": set(), "department": set(), "product": set()}
    kinds = {
        TicketEvent.Kind.ASSIGNED: "user",
        TicketEvent.Kind.TRANSFERRED: "department",
        TicketEvent.Kind.PRODUCT: "product",
    }
    for event in events:
        if event.kind in kinds:
            ids[kinds[event.kind]].update(v for v in (event.data.get("old"), event.data.get("new")) if v)
    return {
        "user": {u.pk: u.name for u in User.objects.filter(pk__in=ids["user"])} if ids["user"] else {},
        "department": dict(Department.objects.filter(pk__in=ids["department"]).values_list("pk", "name"))
        if ids["department"]
        else {},
        "product": dict(Product.objects.filter(pk__in=ids["product"]).values_list("pk", "name"))
        if ids["product"]
        else {},
    }


_CHOICE_LABELS: dict = {}


def _label(choices, value) -> str:
    """A choice's translated label, memoized per language (a ticket's history is mostly status changes)."""
    key = (choices, value, get_language())
    label = _CHOICE_LABELS.get(key)
    if label is None:
        try:
            label = str(choices(value).label)
        except ValueError:
            label = str(value or "—")
        if len(_CHOICE_LABELS) > 1000:
            _CHOICE_LABELS.clear()
        _CHOICE_LABELS[key] = label
    return label


def _change(template: str, old, new) -> str:
    return template % {"old": old, "new": new}


def _transferred(d: dict, names: dict) -> str:
    depts = names["department"]
    text = _("Transferred from %(old)s to %(new)s") % {
        "old": depts.get(d.get("old"), "?"),
        "new": depts.get(d.get("new"), "?"),
    }
    return text + (" — " + d["reason"] if d.get("reason") else "")


def _split(d: dict, names: dict) -> str:
    if "into" in d:
        return _("A message was split into ticket #%(number)s") % {"number": d["into"]}
    return _("Split from ticket #%(number)s") % {"number": d.get("origin")}


def _merged(d: dict, names: dict) -> str:
    if "into" in d:
        return _("Merged into ticket #%(number)s") % {"number": d["into"]}
    text = _("Ticket #%(number)s was merged into this one") % {"number": d.get("source_number")}
    return text + (" " + _("(undone)") if d.get("undone") else "")


_K = TicketEvent.Kind
# Event kind -> its description from (data, names of referenced rows). Kinds not listed show their label.
DESCRIBE = {
    _K.STATUS: lambda d, n: _change(
        _("Status: %(old)s → %(new)s"), _label(Status, d.get("old")), _label(Status, d.get("new"))
    ),
    _K.PRIORITY: lambda d, n: _change(
        _("Priority: %(old)s → %(new)s"), _label(Priority, d.get("old")), _label(Priority, d.get("new"))
    ),
    _K.ASSIGNED: lambda d, n: _change(
        _("Assignee: %(old)s → %(new)s"),
        n["user"].get(d.get("old"), _("nobody")),
        n["user"].get(d.get("new"), _("nobody")),
    ),
    _K.PRODUCT: lambda d, n: _change(
        _("Product: %(old)s → %(new)s"),
        n["product"].get(d.get("old"), "—"),
        n["product"].get(d.get("new"), "—"),
    ),
    _K.SUBJECT: lambda d, n: _change(_("Subject: “%(old)s” → “%(new)s”"), d.get("old", ""), d.get("new", "")),
    _K.TRANSFERRED: _transferred,
    _K.SPLIT: _split,
    _K.MERGED: _merged,
    _K.UNMERGED: lambda d, n: _("Merge with ticket #%(number)s undone") % {"number": d.get("other")},
    # SLA events (sla app): which target, and the escalation level.
    _K.SLA_WARNING: lambda d, n: _("SLA warning: %(target)s target is due soon")
    % {"target": TARGET_LABELS.get(d.get("target"), "?")},
    _K.ESCALATED: lambda d, n: _("Escalated (level %(level)s): %(target)s target missed")
    % {"level": d.get("level"), "target": TARGET_LABELS.get(d.get("target"), "?")},
}


def describe_event(event: TicketEvent, names: dict) -> str:
    describe = DESCRIBE.get(event.kind)
    return describe(event.data, names) if describe else str(event.get_kind_display())


def ticket_links(ticket: Ticket) -> list[dict]:
    """Links in both directions, worded from this ticket's side."""
    links = TicketLink.objects.filter(Q(source=ticket) | Q(target=ticket)).select_related("source", "target")
    words = {
        (TicketLink.Kind.SPLIT, True): _("Split from"),
        (TicketLink.Kind.SPLIT, False): _("Split into"),
        (TicketLink.Kind.MERGED, True): _("Merged into"),
        (TicketLink.Kind.MERGED, False): _("Merged from"),
    }
    result = []
    for link in links:
        outgoing = link.source_id == ticket.pk
        other = link.target if outgoing else link.source
        label = words.get((link.kind, outgoing), link.get_kind_display())
        result.append({"label": label, "ticket": other})
    return result


def merge_candidates(*, user, ticket: Ticket) -> QuerySet[Ticket]:
    """Other unmerged tickets of the same customer the agent can see (merge targets)."""
    return (
        visible_tickets(user)
        .filter(customer_id=ticket.customer_id, merged_into__isnull=True)
        .exclude(pk=ticket.pk)
        .select_related("department")
        .order_by("-updated_at")
    )


# --- New-activity signal -----------------------------------------------------------------------------


# The queue signal looks only at the newest messages of the whole system: a new message is always among
# them when the page polls (every 15 s), and the scan stays bounded however many messages the agent's
# departments do NOT have (a naive "newest visible message" walks the whole table for a quiet department).
ACTIVITY_WINDOW = 2000


# The poll runs every 15 s in every open agent tab, so its one query is written out: building it with the
# ORM (subqueries, expression wrappers) cost about a millisecond of CPU, several times the query itself.
# Table names come from the models; the agent's departments are a semi-join on memberships (superusers:
# all). Plans (benchmarks/agent_pages.md): a backward walk of the message primary key bounded by the window,
# or the ticket's unique number, then its messages through message_ticket_idx.
_ACTIVITY_SQL = """
    SELECT m.id, t.number, t.subject FROM {message} m JOIN {ticket} t ON t.id = m.ticket_id
    WHERE {condition}
      AND (%(all)s OR t.department_id IN (SELECT department_id FROM {membership} WHERE user_id = %(user)s))
    ORDER BY m.id DESC LIMIT 1"""
_QUEUE_CONDITION = "m.id > (SELECT MAX(id) FROM {message}) - %(window)s AND m.kind = %(customer)s"
_TICKET_CONDITION = (
    "t.number = %(number)s AND m.kind IN (%(customer)s, %(reply)s) AND (m.author_id IS NULL OR m.author_id <> %(user)s)"
)


def latest_activity(*, user, ticket_number: int | None = None) -> dict:
    """The newest customer message in the agent's departments (or, with a ticket, the newest public
    message on it not written by the agent). One indexed query either way; callers are agents."""
    tables = {
        "message": Message._meta.db_table,
        "ticket": Ticket._meta.db_table,
        "membership": Membership._meta.db_table,
    }
    condition = _QUEUE_CONDITION if ticket_number is None else _TICKET_CONDITION
    sql = _ACTIVITY_SQL.format(condition=condition.format(**tables), **tables)
    params = {
        "all": bool(user.is_superuser),
        "user": user.pk,
        "window": ACTIVITY_WINDOW,
        "number": ticket_number,
        "customer": Message.Kind.CUSTOMER.value,
        "reply": Message.Kind.REPLY.value,
    }
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    if row is None:
        return {"latest": 0}
    return {"latest": row[0], "number": row[1], "subject": row[2]}


def newer_public_messages(*, ticket: Ticket, after: int, user) -> list[Message]:
    """Public messages by others that arrived after the one the agent last saw (collision check)."""
    return list(
        ticket.messages.filter(kind__in=Message.PUBLIC_KINDS, pk__gt=after)
        .exclude(author=user)
        .select_related("author")
    )


def last_public_message_id(ticket: Ticket) -> int:
    return (
        ticket.messages.filter(kind__in=Message.PUBLIC_KINDS)
        .order_by("-pk")
        .values_list("pk", flat=True)
        .first()
        or 0
    )
