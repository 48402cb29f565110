"""Inbound mail: store the raw bytes first, then claim, parse, route and apply in one transaction.

Every step is idempotent: storing is keyed on the Message-ID (or a content hash), and processing
claims the row with SELECT ... FOR UPDATE SKIP LOCKED and a status check, then marks it processed in
the same transaction that creates the ticket or message. A worker killed at any point leaves either
nothing or a `received` row that the sweep (or a retry) processes later.
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass, field
from datetime import timedelta
from email.parser import BytesHeaderParser
from email.policy import compat32
from email.utils import getaddresses, parseaddr
from functools import partial

from django.conf import settings
from django.db import OperationalError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from departments.models import Department
from helpdesk_site.rowsql import (
    insert_many_unless_exist,
    insert_unless_exists,
    pipelined,
    select_rows,
    update_row,
    update_rows,
)
from tickets import memo
from tickets import services as ticket_services
from tickets.attachments import IncomingFile, check_file
from tickets.choices import DONE_STATUSES, Channel
from tickets.exceptions import AttachmentRejected
from tickets.models import Message, Ticket, TicketEvent
from tickets.numbering import NEXT_NUMBER_SQL
from tickets.tokens import parse_reply_address

from . import outbound, routing
from .charsets import decode_header_value
from .models import InboundEmail, Mailbox, OutboundEmail
from .parsing import ParsedEmail, normalize_message_id, parse

logger = logging.getLogger(__name__)

# --- storing ---------------------------------------------------------------------------------------


_BLANK_LINE = re.compile(rb"\n\r?\n")


def _header_block(raw: bytes) -> bytes:
    """The bytes up to the blank line that ends the headers (all of them when there is none): the header
    parser splits everything it is given into lines, body included, which cost more than the headers.
    One search for either line ending (two finds scanned the whole body for the one the mail lacks)."""
    blank = _BLANK_LINE.search(raw)
    return raw[: blank.start() + 1] if blank else raw


def _headers(raw: bytes):
    """The header block only: storing must not depend on parsing the body."""
    try:
        return BytesHeaderParser(policy=compat32).parsebytes(_header_block(raw))
    except Exception:  # noqa: BLE001 - broken headers just mean "no Message-ID": hash the bytes instead
        return None


_KEY_HEADERS = ("message-id", "from", "date")
_HEADER_NAME = re.compile(r"[\041-\071\073-\176]+:")


def _key_headers(raw: bytes) -> dict[str, str] | None:
    """Message-ID, From and Date as _headers() gives them (first occurrence, str())."""
    simple = _simple_headers(_header_block(raw))
    if simple is not None:
        return simple
    headers = _headers(raw)
    return None if headers is None else {name: str(headers.get(name, "")) for name in _KEY_HEADERS}


def _simple_headers(block: bytes) -> dict[str, str] | None:
    """The same for the usual header block, without the stdlib parser's per-line machinery (0.04 ms of
    the 0.06 ms a key took); None for anything that parser treats specially (8-bit bytes, a bare CR, a
    "From " line, a continuation first, a line that is no header), which it then parses."""
    if not block.isascii() or block.count(b"\r") != block.count(b"\r\n"):
        return None
    lines = block.decode("ascii").split("\n")
    if lines[-1] == "":
        lines.pop()
    found: dict[str, str] = {}
    name: str | None = None
    value: list[str] = []
    for line in [*lines, ""]:
        if line[:1] in (" ", "\t"):
            if name is None:
                return None
            value.append("\n" + line)  # the line ending belongs to the previous line
            continue
        if name is not None and name not in found:
            # compat32's header_source_parse: value after the colon, blanks before it dropped, folds kept
            found[name] = "".join(value).lstrip(" \t").rstrip("\r\n")
        if not line:
            break
        colon = _HEADER_NAME.match(line)
        if colon is None or line.startswith("From "):
            return None
        name, value = line[: colon.end() - 1].lower(), [line[colon.end() :]]
    return {key: found.get(key, "") for key in _KEY_HEADERS}


def dedupe_key(raw: bytes) -> tuple[str, str]:
    """(key, Message-ID). The same message delivered twice (two mailboxes, IMAP and the pipe, an ESP
    retry) has the same Message-ID, From and Date even though Received headers differ; a broken
    sender reusing one Message-ID for different mails still differs in From or Date."""
    headers = _key_headers(raw)
    message_id = normalize_message_id(headers["message-id"]) if headers is not None else ""
    if not message_id:
        return f"sha256:{hashlib.sha256(raw).hexdigest()}", ""
    origin = " ".join(" ".join(headers[h].split()) for h in ("from", "date"))
    return (
        f"mid:{message_id[:900]}:{hashlib.sha256(origin.encode('utf-8', 'surrogateescape')).hexdigest()[:16]}",
        message_id[:900],
    )


def store_raw(raw: bytes, *, source: str, mailbox: Mailbox | None = None) -> tuple[InboundEmail, bool]:
    """Durably keep the message. Storing the same message again returns the existing row."""
    if not raw or not raw.strip():
        raise ValueError("empty message")
    # One INSERT ... ON CONFLICT DO NOTHING: a single round trip per new delivery.
    return store_many([raw], source=source, mailbox=mailbox)[0]


def store_many(
    raws: list[bytes], *, source: str, mailbox: Mailbox | None = None
) -> list[tuple[InboundEmail | None, bool]]:
    """store_raw for several messages in one INSERT (the IMAP poller's chunk; the caller commits): one
    round trip instead of one per mail. An empty message gives (None, False); the same message twice
    in the chunk is stored once, the second given as a duplicate of the first."""
    rows = [_unsaved(raw, source, mailbox) if raw.strip() else None for raw in raws]
    stored = [row for row in rows if row is not None]
    insert_many_unless_exist(stored, "dedupe_key")  # sets the pk of the rows it inserted
    kept = {row.dedupe_key: row for row in stored if row.pk is not None}
    missing = {row.dedupe_key for row in stored} - kept.keys()
    kept.update((row.dedupe_key, row) for row in InboundEmail.objects.filter(dedupe_key__in=missing))
    return [
        (None, False) if row is None else (row, True) if row.pk is not None else (kept[row.dedupe_key], False)
        for row in rows
    ]


def _unsaved(raw: bytes, source: str, mailbox: Mailbox | None) -> InboundEmail:
    key, message_id = dedupe_key(raw)
    return InboundEmail(
        dedupe_key=key, raw=raw, size=len(raw), message_id_header=message_id, source=source, mailbox=mailbox
    )


# --- processing ------------------------------------------------------------------------------------


@dataclass
class Outcome:
    action: str
    status: str = InboundEmail.Status.PROCESSED
    ticket: Ticket | None = None
    message: Message | None = None
    department: Department | None = None
    attachments: list[str] = field(default_factory=list)
    dropped: list[dict] = field(default_factory=list)


def process_inbound(inbound_id: int) -> InboundEmail | None:
    """Process one stored message. Returns None if another worker holds it or it is already done."""
    rows = process_batch(first_id=inbound_id, limit=1)
    return rows[0] if rows else None


def process_batch(*, first_id: int | None = None, limit: int | None = None) -> list[InboundEmail]:
    """Claim up to `limit` stored messages (`first_id` first, then the oldest waiting ones) and process
    them in one transaction: BEGIN/COMMIT, the claim, the result UPDATE and the configuration reads
    (addresses, departments, SLA policies) are paid once per batch instead of once per message.

    Optimistically without a savepoint per message (two round trips each): if any message fails, the
    whole batch is rolled back and processed again with one savepoint per message, so that only the
    failing one is quarantined. A worker killed mid-batch rolls it all back: every message is still
    `received` and is processed by the next task or the sweep (storing and processing are idempotent)."""
    limit = limit or settings.HELPDESK_INBOUND_BATCH
    try:
        return _run_batch(first_id, limit, careful=False)
    except _RetryCarefully as retry:
        logger.info("Inbound batch rolled back (%s); processing it again message by message", retry.__cause__)
        return _run_batch(first_id, limit, careful=True)


class _RetryCarefully(Exception):
    pass


def _run_batch(first_id: int | None, limit: int, *, careful: bool) -> list[InboundEmail]:
    with transaction.atomic(durable=True), memo.batch_scope():
        _relax_commit()
        rows = _claim(first_id, limit)
        for row in rows:
            row.attempts += 1
        if careful:
            for row in rows:
                _process_in_savepoint(row)
            _save_results(rows)
        else:
            try:
                _run_optimistic(rows)
            except Exception as exc:
                raise _RetryCarefully from exc
    return rows


# What a pipelined batch inserts (rowsql.pipelined reserves their keys in one round trip).
_PIPELINED_MODELS = (Ticket, Message, TicketEvent, OutboundEmail)


def _run_optimistic(rows: list[InboundEmail]) -> None:
    """All mails of the batch without a savepoint each; a failure anywhere fails the batch, which the
    caller then redoes mail by mail.

    Two or more mails on PostgreSQL: the senders' accounts are read in one query and the tickets the
    replies name are locked in another (both from the header blocks), then the writes are sent without
    waiting for their results (rowsql.pipelined), so
    PostgreSQL runs one mail's INSERTs and their triggers (search indexing) while this process parses
    and routes the next one, on the other core. A single mail (a quiet queue) gains nothing from that."""
    if len(rows) < 2 or connection.vendor != "postgresql":
        for row in rows:
            _set_outcome(row, handle(row, parse(bytes(row.raw))))
        _save_results(rows)
        return
    previews = [_preview(bytes(row.raw)) for row in rows]
    _read_customers([p.sender for p in previews])
    # The tickets replies name by [#ref] tag or reply address, locked now: no wait for them mid-batch.
    named = {n for p in previews for n in p.tickets}
    routing.remember_tickets(named, ticket_services.lock_by_numbers(named))
    numbers = {NEXT_NUMBER_SQL: sum(1 for p in previews if p.new)}
    with pipelined(len(rows), models=_PIPELINED_MODELS, sequences=numbers):
        for row in rows:
            # Parsed here, not up front: while this mail is parsed, PostgreSQL runs the previous one's.
            _set_outcome(row, handle(row, parse(bytes(row.raw))))
        _save_results(rows)


@dataclass(frozen=True)
class _Preview:
    sender: str = ""
    new: bool = False  # probably a new ticket (it will need a ticket number)
    tickets: tuple[int, ...] = ()  # numbers of the tickets it names by [#ref] tag or reply address


def _preview(raw: bytes) -> _Preview:
    """What the header block alone tells, for the batch's reads made before any mail is parsed: the
    senders' accounts, the tickets replies name, the ticket numbers the batch will need. A wrong guess
    costs a query (a ticket or an account not read, a number reserved then) or leaves a gap in the
    numbers; routing itself works on the fully parsed mail."""
    headers = _headers(raw)
    if headers is None:
        return _Preview()
    sender = parseaddr(str(headers.get("From", "")))[1].strip().lower()
    recipients = getaddresses([str(v) for name in _RECIPIENT_HEADERS for v in headers.get_all(name, [])])
    tokens = [parse_reply_address(address.strip().lower()) for _, address in recipients]
    tag = routing.SUBJECT_TAG.search(decode_header_value(str(headers.get("Subject", ""))))
    named = tuple(n for n in [*tokens, int(tag.group(1)) if tag else None] if n is not None)
    threaded = named or any(headers.get(name) for name in _THREAD_HEADERS)
    return _Preview(sender=sender, new=not threaded, tickets=named)


# A reply, an auto-reply or a bounce: none of these is likely to open a ticket.
_THREAD_HEADERS = (
    "In-Reply-To",
    "References",
    "Auto-Submitted",
    "X-Autoreply",
    "X-Autorespond",
    "Precedence",
)
_RECIPIENT_HEADERS = ("To", "Cc", "Delivered-To", "X-Original-To")


def _claim(first_id: int | None, limit: int) -> list[InboundEmail]:
    """SELECT ... FOR UPDATE SKIP LOCKED in raw SQL composed once (the ORM's took 1.5 ms of CPU each)."""
    claim = partial(select_rows, InboundEmail, lock=True, skip_locked=True)
    rows = claim("t.status = %s AND t.id = %s", [RECEIVED, first_id]) if first_id is not None else []
    if first_id is not None and limit == 1:
        return rows
    budget = settings.HELPDESK_INBOUND_BATCH_BYTES - sum(row.size for row in rows)
    if connection.vendor != "postgresql":
        # The partial index inbound_pending_idx serves this: only waiting rows are in it.
        more = claim("t.status = %s AND t.id <> %s", [RECEIVED, first_id or 0, limit - len(rows)], then=_OLDEST)
        return rows + more
    # The oldest waiting rows are locked without their raw bytes, and only as many of them loaded as fit
    # the batch's byte budget (at least one): a burst of large mails must not hold fifty of them in memory.
    # Rows locked but over the budget stay waiting for the next batch.
    more = select_rows(InboundEmail, _WITHIN_BUDGET, [RECEIVED, first_id or 0, limit - len(rows), budget], then=_IN_ORDER)
    return rows + more


RECEIVED = InboundEmail.Status.RECEIVED.value
_OLDEST = "ORDER BY t.received_at LIMIT %s"
_IN_ORDER = "ORDER BY t.received_at, t.id"
_WITHIN_BUDGET = """t.id IN (
    SELECT c.id FROM (
        SELECT w.id, w.size, sum(w.size) OVER (ORDER BY w.received_at, w.id) AS upto
        FROM (SELECT id, size, received_at FROM mailgateway_inboundemail
              WHERE status = %s AND id <> %s ORDER BY received_at LIMIT %s FOR UPDATE SKIP LOCKED) w
    ) c WHERE c.upto <= %s OR c.upto = c.size
)"""


# Deadlock, serialization failure, lock not available: another transaction was in the way, the mail is fine.
TRANSIENT_SQLSTATES = {"40P01", "40001", "55P03"}
MAX_TRANSIENT_ATTEMPTS = 5


def _process_in_savepoint(row: InboundEmail) -> None:
    try:
        with transaction.atomic():  # a savepoint: a failure rolls back the ticket, not the row
            outcome = handle(row, parse(bytes(row.raw)))
    except Exception as exc:
        memo.forget()  # nothing read inside the rolled-back savepoint may be reused
        if _is_transient(exc) and row.attempts < MAX_TRANSIENT_ATTEMPTS:
            # Two batches replying to the same tickets in opposite order can deadlock: not the mail's
            # fault, so it stays `received` for the next task (or the sweep) instead of quarantine.
            logger.warning("Inbound email %s left for a retry: %s", row.pk, exc)
            return
        logger.exception("Inbound email %s quarantined", row.pk)
        _set_quarantined(row, exc)
    else:
        _set_outcome(row, outcome)


def _is_transient(exc: BaseException) -> bool:
    return (
        isinstance(exc, OperationalError) and getattr(exc.__cause__, "sqlstate", None) in TRANSIENT_SQLSTATES
    )


def _save_results(rows: list[InboundEmail]) -> None:
    if connection.vendor != "postgresql":
        for row in rows:
            update_row(row, RESULT_FIELDS)
    else:
        update_rows(rows, RESULT_FIELDS)  # one statement, also for a single row (the ORM's save took 1 ms)


def _relax_commit() -> None:
    """The raw message was committed durably by store_raw; if this transaction's commit is lost in a
    crash, the row is simply still `received` and the sweep processes it again. So this commit need
    not wait for the WAL flush, which roughly halves the time per message under load.

    Foreign keys are checked at each statement instead of at COMMIT: a message whose ticket was deleted
    meanwhile must fail inside its own savepoint (and be quarantined), not fail the whole batch."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SET LOCAL synchronous_commit TO OFF; SET CONSTRAINTS ALL IMMEDIATE;"
                " SET CONSTRAINTS helpdesk_ticket_search DEFERRED"  # not a check: search.sql's TRIGGERS
            )


def retry_quarantined(inbound_id: int) -> InboundEmail | None:
    """Put a quarantined message back in the queue (after a fix) and process it now."""
    InboundEmail.objects.filter(pk=inbound_id, status=InboundEmail.Status.QUARANTINED).update(
        status=InboundEmail.Status.RECEIVED, error=""
    )
    return process_inbound(inbound_id)


def mail_waiting() -> bool:
    """Whether any stored mail waits for processing (the partial index inbound_pending_idx holds only those)."""
    return InboundEmail.objects.filter(status=InboundEmail.Status.RECEIVED).exists()


def pending_inbound_ids(*, older_than: timedelta | None = None, limit: int = 500) -> list[int]:
    """Rows stored but never processed (the worker died, or the task was lost with the broker).
    The grace period leaves fresh rows to the task that was queued for them."""
    if older_than is None:
        older_than = timedelta(seconds=getattr(settings, "HELPDESK_INBOUND_SWEEP_AFTER", 120))
    cutoff = timezone.now() - older_than
    qs = InboundEmail.objects.filter(status=InboundEmail.Status.RECEIVED, received_at__lte=cutoff)
    return list(qs.order_by("received_at").values_list("pk", flat=True)[:limit])


# Never rewrite the raw bytes (or the key) when recording a result: they are the evidence.
RESULT_FIELDS = [
    "status",
    "action",
    "error",
    "attempts",
    "subject",
    "from_email",
    "ticket",
    "message",
    "department",
    "attachments",
    "dropped",
    "processed_at",
]


def _set_outcome(row: InboundEmail, outcome: Outcome) -> None:
    row.status = outcome.status
    row.action = outcome.action
    row.ticket = outcome.ticket
    row.message = outcome.message
    # By id: the ticket came back from a locked re-read, its department is not loaded.
    row.department_id = (
        outcome.department.pk if outcome.department else getattr(outcome.ticket, "department_id", None)
    )
    row.attachments = outcome.attachments
    row.dropped = outcome.dropped
    row.error = ""
    row.processed_at = timezone.now()


def _finish(row: InboundEmail, outcome: Outcome) -> None:
    _set_outcome(row, outcome)
    row.save(update_fields=RESULT_FIELDS)


def _set_quarantined(row: InboundEmail, exc: Exception) -> None:
    row.status = InboundEmail.Status.QUARANTINED
    row.action = InboundEmail.Action.QUARANTINED
    row.error = f"{type(exc).__name__}: {exc}"[:4000]
    row.ticket = row.message = row.department = None
    row.processed_at = timezone.now()


def handle(row: InboundEmail, parsed: ParsedEmail) -> Outcome:
    """Decide what the mail is and apply it through tickets.services."""
    row.subject = parsed.subject[:998]
    row.from_email = parsed.from_email[:320]
    ours = routing.our_addresses()
    if routing.is_own_mail(parsed, ours):
        return Outcome(action=InboundEmail.Action.AUTOREPLY)
    if parsed.is_bounce:
        return _record_noise(row, parsed, TicketEvent.Kind.BOUNCE, InboundEmail.Action.BOUNCE)
    if parsed.is_auto_reply:
        return _record_noise(row, parsed, TicketEvent.Kind.AUTO_REPLY, InboundEmail.Action.AUTOREPLY)
    if "@" not in parsed.from_email:
        raise ValueError("The message has no usable sender address")
    ticket = routing.find_ticket(parsed)
    if ticket is None:
        return _new_ticket(row, parsed, ours)
    if not may_write(ticket, parsed.from_email):
        return _hold(row, parsed, ticket)
    if _too_old_to_reopen(ticket):
        return _new_ticket(row, parsed, ours, previous=ticket)
    return _append(row, parsed, ticket, ours)


def _record_noise(row: InboundEmail, parsed: ParsedEmail, kind: str, action: str) -> Outcome:
    """Auto-replies and bounces: noted on their ticket for the agents, never answered, never a ticket."""
    is_bounce = kind == TicketEvent.Kind.BOUNCE
    ticket = routing.find_bounced_ticket(parsed) if is_bounce else routing.find_ticket(parsed)
    if is_bounce:
        outbound.mark_bounced(parsed.bounced_message_id, " ".join(parsed.text.split())[:500])
    if ticket is not None:
        ticket_services.ticket_record_mail_event(
            ticket=ticket, kind=kind, inbound=row.pk, sender=parsed.from_email, subject=parsed.subject[:200]
        )
    return Outcome(action=action, ticket=ticket)


def may_write(ticket: Ticket, sender: str) -> bool:
    """Only the customer and the participants write into a ticket by mail; anyone else could have
    copied a [#ref] tag or been forwarded our mail."""
    sender = sender.strip().lower()
    if ticket.customer.email.lower() == sender:
        return True
    return ticket.participants.filter(email__iexact=sender).exists()


def _too_old_to_reopen(ticket: Ticket) -> bool:
    if ticket.status not in DONE_STATUSES:
        return False
    done_at = ticket.closed_at or ticket.resolved_at or ticket.updated_at
    return done_at < timezone.now() - timedelta(days=settings.HELPDESK_REOPEN_MAX_AGE_DAYS)


def _hold(row: InboundEmail, parsed: ParsedEmail, ticket: Ticket) -> Outcome:
    ticket_services.ticket_record_mail_event(
        ticket=ticket,
        kind=TicketEvent.Kind.MAIL_HELD,
        inbound=row.pk,
        sender=parsed.from_email,
        subject=parsed.subject[:200],
    )
    return Outcome(action=InboundEmail.Action.HELD, status=InboundEmail.Status.HELD, ticket=ticket)


# --- applying --------------------------------------------------------------------------------------


def _append(row: InboundEmail, parsed: ParsedEmail, ticket: Ticket, ours: set[str]) -> Outcome:
    files, kept, dropped = check_attachments(parsed)
    # Usually the customer writes: routing loaded him with the ticket, no need to look him up again.
    customer = ticket.customer
    sender = parsed.from_email.strip().lower()
    author = customer if customer.email.lower() == sender else customer_for(parsed)
    cc = cc_addresses(parsed, ours)
    message = ticket_services.ticket_customer_message(
        ticket=ticket,
        author=author,
        body_text=body_with_notes(parsed.text, dropped),
        body_html=parsed.html,
        channel=Channel.EMAIL,
        files=files,
        cc=cc,
        **threading_fields(parsed),
    )
    if cc:
        ticket_services.ticket_add_participants(ticket=ticket, emails=cc, actor=author)
    return Outcome(
        action=InboundEmail.Action.APPENDED, ticket=ticket, message=message, attachments=kept, dropped=dropped
    )


def _new_ticket(
    row: InboundEmail, parsed: ParsedEmail, ours: set[str], previous: Ticket | None = None
) -> Outcome:
    files, kept, dropped = check_attachments(parsed)
    customer, recent = _customer(parsed)
    department = routing.route_department(parsed, row.mailbox)
    ticket = ticket_services.ticket_create(
        customer=customer,
        department=department,
        subject=parsed.subject,
        body_text=body_with_notes(parsed.text, dropped),
        body_html=parsed.html,
        channel=Channel.EMAIL,
        files=files,
        cc=cc_addresses(parsed, ours),
        acknowledge=recent < settings.HELPDESK_ACK_PER_HOUR,
        **threading_fields(parsed),
    )
    _customers_read()[customer.email.lower()] = (customer, recent + 1)  # for the ack limit of its next mail
    if previous is not None:
        ticket_services.ticket_link_follow_up(ticket=ticket, previous=previous)
    return Outcome(
        action=InboundEmail.Action.CREATED,
        ticket=ticket,
        message=ticket.opening_message,
        department=department,
        attachments=kept,
        dropped=dropped,
    )


def threading_fields(parsed: ParsedEmail) -> dict:
    return {
        "message_id": parsed.message_id[:998],
        "in_reply_to": " ".join(f"<{i}>" for i in parsed.in_reply_to)[:998],
        "references": " ".join(f"<{i}>" for i in parsed.references),
    }


def cc_addresses(parsed: ParsedEmail, ours: set[str]) -> list[str]:
    """Cc'd people become participants; our own addresses (support@, reply tokens) never do, or
    every agent reply would be mailed back to us."""
    sender = parsed.from_email.lower()
    found = (a.strip().lower() for a in parsed.cc if "@" in a)
    return sorted({a for a in found if a != sender and not routing.is_our_address(a, ours)})


def check_attachments(parsed: ParsedEmail) -> tuple[list[IncomingFile], list[str], list[dict]]:
    """Split attachments into files to store and dropped ones (with the reason shown to agents)."""
    files, kept, dropped = [], [], []
    for att in parsed.attachments:
        name = att.filename or "attachment"
        try:
            check_file(name, att.content)
        except AttachmentRejected as exc:
            dropped.append({"filename": name, "reason": str(exc.message)})
            continue
        files.append(IncomingFile(name, att.content, att.content_id, att.is_inline))
        kept.append(name)
    return files, kept, dropped


def body_with_notes(text: str, dropped: list[dict]) -> str:
    """Dropped files are named in the stored message so the agent sees what was removed and why."""
    if not dropped:
        return text
    notes = [_("[Attachment not stored: %(reason)s]") % {"reason": d["reason"]} for d in dropped]
    return (text.rstrip() + "\n\n" + "\n".join(notes)).lstrip()


_NOT_CYRILLIC = re.compile(r"[^\u0400-\u04FF]+")
_NOT_LETTERS = re.compile(r"[\W\d_]+")


def guess_language(text: str) -> str:
    """Russian when more than 30 % of the letters are Cyrillic. Counted by what is left once the rest is
    removed: findall() built a list of every letter (0.77 ms for 4,000 characters, now 0.28)."""
    sample = text[:4000]
    if sample.isascii():
        return "en"
    letters = len(_NOT_LETTERS.sub("", sample))
    return "ru" if letters and len(_NOT_CYRILLIC.sub("", sample)) / letters > 0.3 else "en"


def customer_for(parsed: ParsedEmail) -> User:
    """The sender's account, created on first contact (no password: they may set one later)."""
    return _customer(parsed)[0]


def _customer(parsed: ParsedEmail) -> tuple[User, int]:
    """(account, email tickets it opened in the last hour): read with the batch's other senders, or one
    query for a known sender, one INSERT for a new one (who has opened none)."""
    email = parsed.from_email.strip().lower()
    read = _customers_read()
    found = read[email] if email in read else _find_customer(email)
    if found is not None:
        return found
    language = guess_language(f"{parsed.subject}\n{parsed.text}")
    user = User(email=email, display_name=parsed.from_name[:150], language=language)
    user.set_unusable_password()
    # In a pipelined batch not waited for: if another worker created the account meanwhile, this
    # reserved id exists nowhere and the ticket's foreign key fails, so the batch is redone carefully.
    if insert_unless_exists(user, wait=False) is not False:
        read[email] = (user, 0)
        return user, 0
    return _find_customer(email) or (User.objects.get(email=email), 0)  # created by another worker meanwhile


@memo.per_batch
def _customers_read() -> dict[str, tuple[User, int] | None]:
    """Accounts read for this batch by sender address (None: no account), with their count of recent
    email tickets, kept current as the batch opens tickets. Outside a batch: a new empty dict each time."""
    return {}


def _read_customers(senders: list[str]) -> None:
    """The accounts of a batch's senders in one query (those not found are created when needed)."""
    emails = sorted({s.strip().lower() for s in senders if "@" in s})
    if emails:
        found = _find_customers(emails)
        _customers_read().update({email: found.get(email) for email in emails})


_RECENT_TICKETS = """(
    SELECT COUNT(*) FROM tickets_ticket rt WHERE rt.customer_id = t.id AND rt.channel = %s AND rt.created_at >= %s
)"""


def _find_customer(email: str) -> tuple[User, int] | None:
    return _find_customers([email]).get(email)


def _find_customers(emails: list[str]) -> dict[str, tuple[User, int]]:
    """Raw SQL composed once on the hot path: the ORM spent 1 ms of CPU composing this annotated query,
    four times what running it costs. LOWER(email) is what the unique index user_email_ci_unique covers
    (email__iexact compiles to UPPER() and would scan the whole user table)."""
    since = timezone.now() - timedelta(hours=1)
    where = "LOWER(t.email) = %s" if len(emails) == 1 else "LOWER(t.email) = ANY(%s)"
    users = select_rows(
        User,
        where,
        [Channel.EMAIL, since, emails[0] if len(emails) == 1 else emails],
        annotate={"recent_tickets": _RECENT_TICKETS},
    )
    return {user.email.lower(): (user, user.recent_tickets) for user in users}


# --- held mail -------------------------------------------------------------------------------------


def _claim_held(inbound_id: int) -> InboundEmail | None:
    return (
        InboundEmail.objects.select_for_update(skip_locked=True)
        .filter(pk=inbound_id, status=InboundEmail.Status.HELD)
        .first()
    )


def accept_held(inbound_id: int, *, actor) -> InboundEmail | None:
    """An agent vouches for the sender: append the mail to the ticket and make the sender a
    participant, so his next replies thread in directly."""
    with transaction.atomic(durable=True):
        row = _claim_held(inbound_id)
        if row is None:
            return None
        parsed = parse(bytes(row.raw))
        ticket = routing.final_ticket(row.ticket)
        if ticket is None:
            raise Ticket.DoesNotExist("The ticket of this held message is gone")
        ticket_services.ticket_add_participants(ticket=ticket, emails=[parsed.from_email], actor=actor)
        _finish(row, _append(row, parsed, ticket, routing.our_addresses()))
    return row


def reject_held(inbound_id: int, *, actor) -> InboundEmail | None:
    """Not part of that conversation: the mail becomes a ticket of its own."""
    with transaction.atomic(durable=True):
        row = _claim_held(inbound_id)
        if row is None:
            return None
        _finish(row, _new_ticket(row, parse(bytes(row.raw)), routing.our_addresses()))
    return row


# --- reporting -------------------------------------------------------------------------------------


def outcome_json(row: InboundEmail, *, duplicate: bool = False) -> dict:
    """The ingest_email line for one message (format fixed by issue 3)."""
    return {
        "message_id": row.message_id_header or None,
        "action": "duplicate" if duplicate else (row.action or row.status),
        "ticket": row.ticket.reference if row.ticket_id else None,
        "department": row.department.slug if row.department_id else None,
        "subject": row.subject,
        "from": row.from_email,
        "attachments": list(row.attachments),
        "dropped": list(row.dropped),
        "error": row.error or None,
    }


def receive(raw: bytes, *, source: str, mailbox: Mailbox | None = None) -> tuple[InboundEmail, bool]:
    """Store and, once committed, queue processing. The sweep catches anything the queue loses."""
    row, created = store_raw(raw, source=source, mailbox=mailbox)
    if created:
        from .tasks import process_inbound_email

        transaction.on_commit(lambda: process_inbound_email.delay(row.pk))
    return row, created


def receive_many(
    raws: list[bytes], *, source: str, mailbox: Mailbox | None = None
) -> list[tuple[InboundEmail | None, bool]]:
    """Store several messages in one durable transaction, then queue their processing.

    The IMAP poller's chunk: one WAL flush for all of them instead of one per mail. An empty message
    (nothing to keep) gives (None, False) and does not stop the others. One task is queued per
    HELPDESK_INBOUND_BATCH new rows: each task takes its own row and the oldest waiting others."""
    from .tasks import process_inbound_email

    with transaction.atomic(durable=True):
        results = store_many(raws, source=source, mailbox=mailbox)
        new = [row.pk for row, created in results if created]
        for first in new[:: settings.HELPDESK_INBOUND_BATCH]:
            transaction.on_commit(partial(process_inbound_email.delay, first))
    return results
