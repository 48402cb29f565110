"""Merge two tickets of the same customer, and undo a merge.

Merging moves the source's messages into the target (the conversation is shown in time order, so it
combines naturally), closes the source with `merged_into` set and links the two. Everything that moved
or changed is written into the MERGED event's data, so an undo can put back exactly that and nothing
else: messages that arrived on the target after the merge stay there.
"""

from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _

from sla.services import recompute as sla_recompute  # SLA clocks follow every change (sla app)

from ..choices import Status
from ..exceptions import TicketError
from ..models import Message, Participant, Ticket, TicketEvent, TicketLink
from .common import record, touch

# Ticket columns a merge changes on the source; restored verbatim by an undo.
SOURCE_FIELDS = ("status", "resolved_at", "closed_at", "waiting_since", "updated_at")
TARGET_FIELDS = ("waiting_since", "updated_at")


class MergeNotAllowed(TicketError):
    default_message = _("Only two different, unmerged tickets of the same customer can be merged.")


class UnmergeNotAllowed(TicketError):
    default_message = _("This merge cannot be undone.")


def lock_pair(a: Ticket, b: Ticket) -> tuple[Ticket, Ticket]:
    """Lock both rows in id order, so two agents merging the same pair crosswise cannot deadlock."""
    rows = {t.pk: t for t in Ticket.objects.select_for_update().filter(pk__in=[a.pk, b.pk]).order_by("pk")}
    return rows[a.pk], rows[b.pk]


def resolve_merged(ticket: Ticket) -> Ticket:
    """The ticket mail for `ticket` should go to: follows merged_into (the gateway calls this)."""
    seen = set()
    while ticket.merged_into_id and ticket.pk not in seen:
        seen.add(ticket.pk)
        ticket = ticket.merged_into
    return ticket


@transaction.atomic
def ticket_merge(*, source: Ticket, target: Ticket, actor) -> TicketEvent:
    """Move `source`'s conversation into `target` and close `source`. Returns the MERGED event on target."""
    if source.pk == target.pk:
        raise MergeNotAllowed
    source, target = lock_pair(source, target)
    if source.customer_id != target.customer_id or source.merged_into_id or target.merged_into_id:
        raise MergeNotAllowed
    moved = list(source.messages.values_list("pk", flat=True))
    data = {
        "source": source.pk,
        "source_number": source.number,
        "messages": moved,
        "participants": _copy_participants(source, target),
        "source_state": _snapshot(source, SOURCE_FIELDS),
        "target_state": _snapshot(target, TARGET_FIELDS),
    }
    Message.objects.filter(pk__in=moved).update(ticket=target)
    source_waiting = source.waiting_since
    now = timezone.now()
    source.status, source.merged_into = Status.CLOSED, target
    source.closed_at, source.resolved_at = now, source.resolved_at or now
    source.waiting_since = None
    touch(source, "status", "merged_into", "closed_at", "resolved_at", "waiting_since")
    # The customer waits on the combined ticket since the earliest unanswered message of either.
    waits = [t for t in (target.waiting_since, source_waiting) if t]
    target.waiting_since = min(waits) if waits else None
    touch(target, "waiting_since")
    TicketLink.objects.get_or_create(source=source, target=target, kind=TicketLink.Kind.MERGED)
    record(source, TicketEvent.Kind.MERGED, actor=actor, into=target.number)
    sla_recompute(source, now)
    sla_recompute(target, now)
    return record(target, TicketEvent.Kind.MERGED, actor=actor, **data)


@transaction.atomic
def ticket_unmerge(*, event: TicketEvent, actor) -> Ticket:
    """Undo the merge recorded by `event` (the MERGED event on the target). Returns the restored source."""
    if event.kind != TicketEvent.Kind.MERGED or "source" not in event.data:
        raise UnmergeNotAllowed
    source = Ticket.objects.get(pk=event.data["source"])
    source, target = lock_pair(source, event.ticket)
    event = TicketEvent.objects.select_for_update().get(pk=event.pk)
    if event.data.get("undone") or source.merged_into_id != target.pk:
        raise UnmergeNotAllowed
    Message.objects.filter(pk__in=event.data["messages"], ticket=target).update(ticket=source)
    Participant.objects.filter(pk__in=event.data["participants"], ticket=target).delete()
    source.merged_into = None
    _restore(source, event.data["source_state"])
    source.save(update_fields=["merged_into", *SOURCE_FIELDS])
    _restore(target, event.data["target_state"])
    target.save(update_fields=list(TARGET_FIELDS))
    TicketLink.objects.filter(source=source, target=target, kind=TicketLink.Kind.MERGED).delete()
    event.data["undone"] = timezone.now().isoformat()
    event.save(update_fields=["data"])
    record(source, TicketEvent.Kind.UNMERGED, actor=actor, other=target.number)
    record(target, TicketEvent.Kind.UNMERGED, actor=actor, other=source.number)
    sla_recompute(source)
    sla_recompute(target)
    return source


def _copy_participants(source: Ticket, target: Ticket) -> list[int]:
    """Cc'd people of the source join the target; returns the rows created (an undo deletes them)."""
    existing = set(target.participants.values_list("email", flat=True))
    created = []
    for p in source.participants.all():
        if p.email not in existing:
            created.append(Participant.objects.create(ticket=target, email=p.email, user=p.user).pk)
    return created


def _snapshot(ticket: Ticket, fields) -> dict:
    values = {f: getattr(ticket, f) for f in fields}
    return {f: v.isoformat() if hasattr(v, "isoformat") else v for f, v in values.items()}


def _restore(ticket: Ticket, state: dict) -> None:
    for field, value in state.items():
        if field.endswith("_at") or field == "waiting_since":
            value = parse_datetime(value) if value else None
        setattr(ticket, field, value)
