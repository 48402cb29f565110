"""Reads. Every list read costs a constant number of queries (select_related / prefetch_related)."""

from django.db.models import QuerySet

from departments.permissions import visible_tickets

from .models import Attachment, Message, Ticket, TicketEvent

QUEUES = ("active", "new", "open", "pending", "mine", "unassigned", "escalated", "closed")


def ticket_queue(*, user, department=None, queue: str = "active") -> QuerySet[Ticket]:
    qs = visible_tickets(user).select_related("customer", "department", "assignee")
    if department is not None:
        qs = qs.filter(department=department)
    filters = {
        "active": lambda q: q.active(),
        "new": lambda q: q.filter(status="new"),
        "open": lambda q: q.filter(status="open"),
        "pending": lambda q: q.filter(status="pending"),
        "mine": lambda q: q.active().filter(assignee=user),
        "unassigned": lambda q: q.active().unassigned(),
        "escalated": lambda q: q.escalated(),
        "closed": lambda q: q.recently_closed(),
    }
    return filters.get(queue, filters["active"])(qs).order_by("-updated_at", "-pk")


def customer_tickets(*, user) -> QuerySet[Ticket]:
    return Ticket.objects.filter(customer=user).select_related("department").order_by("-updated_at", "-pk")


def conversation(ticket: Ticket, *, include_internal: bool) -> list:
    """Messages (and, for agents, internal notes and events) in time order, with authors and files."""
    kinds = [k for k in Message.Kind.values if include_internal or k in Message.PUBLIC_KINDS]
    messages = _conversation_messages(ticket, kinds)
    _attach_files(messages)
    if not include_internal:
        return messages
    events = _conversation_events(ticket)
    return sorted(messages + events, key=lambda item: (item.created_at, isinstance(item, TicketEvent), item.pk))


# The conversation is loaded with two written-out queries into model instances built directly: for a
# ticket with 50 messages and 50 events the ORM spent ~1.2 ms compiling the two joins and ~2 ms building
# 300 instances (each author and actor once per row); here each user is built once. Every concrete
# column is loaded, so the instances behave as the ORM's (nothing deferred).


def _columns(model, alias: str) -> tuple[list, str]:
    fields = list(model._meta.concrete_fields)
    return fields, ", ".join(f'{alias}."{f.column}"' for f in fields)


def _converters(fields) -> list:
    from django.db import connection

    return [
        (i, [*connection.ops.get_db_converters(f.get_col(f.model._meta.db_table)), *f.get_db_converters(connection)])
        for i, f in enumerate(fields)
    ]


def _build(model, fields, converters, values):
    from django.db import connection
    from django.db.models.base import ModelState

    values = list(values)
    for i, convs in converters:
        for conv in convs:
            values[i] = conv(values[i], fields[i], connection)
    obj = model.__new__(model)
    obj.__dict__.update(zip([f.attname for f in fields], values, strict=True))
    state = obj._state = ModelState()
    state.adding, state.db = False, "default"
    return obj


class _Loader:
    """Rows of `model` (all concrete columns), converted as the ORM converts them."""

    def __init__(self, model, alias: str):
        self.model = model
        self.fields, self.select = _columns(model, alias)
        self.converters = [(i, c) for i, c in _converters(self.fields) if c]
        self.width = len(self.fields)

    def build(self, values):
        return _build(self.model, self.fields, self.converters, values)


def _loaders() -> dict:
    global _LOADERS
    if _LOADERS is None:
        from accounts.models import User

        from .models import Rating

        _LOADERS = {
            "message": _Loader(Message, "m"),
            "event": _Loader(TicketEvent, "e"),
            "user": _Loader(User, "u"),
            "rating": _Loader(Rating, "r"),
        }
    return _LOADERS


_LOADERS = None

# Table and column names come from the models; every value is a parameter.
_MESSAGES_SQL = """
    SELECT {columns} FROM {message} m
      LEFT JOIN {user} u ON u."id" = m."author_id"
      LEFT JOIN {rating} r ON r."message_id" = m."id"
     WHERE m."ticket_id" = %s AND m."kind" IN ({kinds})
     ORDER BY m."created_at", m."id"
"""
_EVENTS_SQL = """
    SELECT {columns} FROM {event} e LEFT JOIN {user} u ON u."id" = e."actor_id"
     WHERE e."ticket_id" = %s ORDER BY e."created_at", e."id"
"""


def _users(loader, rows, start: int, users: dict):
    """The user in rows[start:start + width] (one instance per id), or None."""
    values = rows[start : start + loader.width]
    pk = values[0]
    if pk is None:
        return None
    user = users.get(pk)
    if user is None:
        user = users[pk] = loader.build(values)
    return user


def _conversation_messages(ticket: Ticket, kinds: list[str]) -> list[Message]:
    from django.db import connection

    from accounts.models import User

    from .models import Rating

    lo = _loaders()
    m, u, r = lo["message"], lo["user"], lo["rating"]
    sql = _MESSAGES_SQL.format(
        columns=f"{m.select}, {u.select}, {r.select}",
        message=Message._meta.db_table,
        user=User._meta.db_table,
        rating=Rating._meta.db_table,
        kinds=", ".join(["%s"] * len(kinds)),
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [ticket.pk, *kinds])
        rows = cursor.fetchall()
    users: dict = {}
    messages = []
    for row in rows:
        message = m.build(row[: m.width])
        cache = message._state.fields_cache
        cache["ticket"] = ticket
        cache["author"] = _users(u, row, m.width, users)
        rating = row[m.width + u.width : m.width + u.width + r.width]
        cache["rating"] = r.build(rating) if rating[0] is not None else None
        if cache["rating"] is not None:
            cache["rating"]._state.fields_cache["message"] = message
        messages.append(message)
    return messages


def _conversation_events(ticket: Ticket) -> list[TicketEvent]:
    from django.db import connection

    from accounts.models import User

    lo = _loaders()
    e, u = lo["event"], lo["user"]
    sql = _EVENTS_SQL.format(
        columns=f"{e.select}, {u.select}", event=TicketEvent._meta.db_table, user=User._meta.db_table
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [ticket.pk])
        rows = cursor.fetchall()
    users: dict = {}
    events = []
    for row in rows:
        event = e.build(row[: e.width])
        event._state.fields_cache["ticket"] = ticket
        event._state.fields_cache["actor"] = _users(u, row, e.width, users)
        events.append(event)
    return events


def _attach_files(messages: list[Message]) -> None:
    """Each message's attachments as `.attachment_list`, in one query. (prefetch_related builds a related
    manager per message, and `.attachments.all()` another at every access: ~1.5 ms for 50 messages.)"""
    by_message = {m.pk: [] for m in messages}
    if by_message:
        for attachment in Attachment.objects.filter(message_id__in=list(by_message)).order_by("pk"):
            by_message[attachment.message_id].append(attachment)
    for message in messages:
        message.attachment_list = by_message[message.pk]


def attachment_for_user(*, user, pk: int) -> Attachment:
    """An attachment the user may download: on a visible ticket, and not on an internal note for customers."""
    from django.http import Http404

    from departments.permissions import is_agent

    qs = Attachment.objects.select_related("message__ticket").filter(
        message__ticket__in=visible_tickets(user).values("pk")
    )
    if not is_agent(user):
        qs = qs.filter(message__kind__in=Message.PUBLIC_KINDS)
    try:
        return qs.get(pk=pk)
    except Attachment.DoesNotExist as exc:
        raise Http404 from exc
