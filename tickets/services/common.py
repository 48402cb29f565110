from collections.abc import Iterable

from django.utils import timezone

from helpdesk_site.rowsql import insert_row, select_one, select_rows, update_row
from webhooks import events as webhook_events

from ..attachments import IncomingFile, check_file, store_attachment
from ..memo import per_batch
from ..message_body import stored_fields
from ..models import Message, Ticket, TicketEvent


def lock(ticket: Ticket) -> Ticket:
    """Re-read the row under a lock: concurrent replies and transfers must not overwrite each other.
    (Raw SQL composed once: the ORM spent more CPU composing this query than the database running it.)
    A ticket the mail gateway's batch locked up front (lock_by_numbers) is not read again."""
    held = _held().get(ticket.pk)
    if held is not None:
        return held
    locked = select_one(Ticket, "t.id = %s", [ticket.pk], lock=True)
    if locked is None:
        raise Ticket.DoesNotExist("Ticket matching query does not exist.")
    return locked


def lock_by_numbers(numbers: Iterable[int]) -> list[Ticket]:
    """Lock several tickets, with their customers, in one query and in id order (two batches locking
    overlapping tickets take them in the same order, so they wait instead of deadlocking). Inside a
    batch (tickets.memo) lock() then returns these instances as they are: the batch holds their locks,
    and its own writes (touch()) go through them, so they stay what the database has."""
    wanted = sorted({n for n in numbers if 0 < n < 2**63})
    if not wanted:
        return []
    tickets = select_rows(Ticket, "t.number = ANY(%s)", [wanted], related="customer", lock=True, then="ORDER BY t.id")
    _held().update({t.pk: t for t in tickets})
    return tickets


@per_batch
def _held() -> dict[int, Ticket]:
    """Tickets locked by lock_by_numbers in this batch (outside a batch: a new empty dict each time)."""
    return {}


def record(ticket: Ticket, kind: str, actor=None, **data) -> TicketEvent:
    event = TicketEvent(ticket=ticket, kind=kind, actor=actor, data=data)
    insert_row(event)  # the ORM's INSERT compiler costs more CPU than the statement; one per ticket change
    webhook_events.event_recorded(event)  # outbox rows for subscribed webhooks; POSTed after commit
    return event


def add_message(ticket: Ticket, *, kind: str, author, body_text: str, files: Iterable[IncomingFile] = (), **extra):
    """Create a message with its attachments. Files must be checked first (check_files)."""
    rendered = stored_fields(body_text, extra.get("body_html", ""))
    message = Message(ticket=ticket, kind=kind, author=author, body_text=body_text, **rendered, **extra)
    insert_row(message)
    for incoming, content_type in files:
        store_attachment(message, incoming, content_type)
    return message


def check_files(files: Iterable[IncomingFile]) -> list[tuple[IncomingFile, str]]:
    """Sniff every file before anything is written; raises AttachmentRejected for the first bad one."""
    return [(f, check_file(f.filename, f.data)) for f in files]


def touch(ticket: Ticket, *fields: str) -> None:
    ticket.updated_at = timezone.now()
    update_row(ticket, ["updated_at", *fields])
