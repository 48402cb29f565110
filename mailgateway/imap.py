"""IMAP polling: fetch by UID, store them in chunks, and only then flag them \\Seen.

We never search UNSEEN: a message somebody already read in another mail client must still become a
ticket. Progress is the last stored UID, valid only together with the folder's UIDVALIDITY; when the
server changes UIDVALIDITY we start again from UID 1 and rely on store_raw's Message-ID/content-hash
key to skip what we already have.
"""

from __future__ import annotations

import imaplib
import logging
import os
import re
import ssl
from datetime import timedelta
from itertools import takewhile

from django.conf import settings
from django.db.models import F, Q
from django.utils import timezone

from .models import Mailbox
from .services import receive_many

logger = logging.getLogger(__name__)

LEASE = timedelta(minutes=10)
_UIDVALIDITY = re.compile(rb"UIDVALIDITY (\d+)")


class MailboxError(Exception):
    pass


def active_mailbox_ids() -> list[int]:
    return list(Mailbox.objects.filter(is_active=True).values_list("pk", flat=True))


def poll(mailbox_id: int) -> str:
    """Poll one mailbox: 'ok', 'busy' (another poll holds the lease) or 'failed'."""
    if not _take_lease(mailbox_id):
        return "busy"
    mailbox = Mailbox.objects.get(pk=mailbox_id)
    try:
        backlog = _fetch_new(mailbox)
    except Exception as exc:  # noqa: BLE001 - recorded on the mailbox; one bad mailbox must not stop others
        logger.warning("Polling mailbox %s failed: %s", mailbox, exc)
        _record_failure(mailbox, exc)
        return "failed"
    finally:
        Mailbox.objects.filter(pk=mailbox_id).update(poll_lease_until=None)
    Mailbox.objects.filter(pk=mailbox_id).update(
        last_success_at=timezone.now(), consecutive_failures=0, last_error="", backlog=backlog
    )
    return "ok"


def poll_all() -> dict[int, str]:
    return {mailbox_id: poll(mailbox_id) for mailbox_id in active_mailbox_ids()}


def _take_lease(mailbox_id: int) -> bool:
    """Compare-and-set: polls of one mailbox never overlap, and a dead poller's lease expires."""
    now = timezone.now()
    return bool(
        Mailbox.objects.filter(Q(poll_lease_until__isnull=True) | Q(poll_lease_until__lt=now), pk=mailbox_id)
        .update(poll_lease_until=now + LEASE)
    )


def password(mailbox: Mailbox) -> str:
    value = os.environ.get(mailbox.password_env, "") if mailbox.password_env else ""
    if not value:
        raise MailboxError(f"Environment variable {mailbox.password_env!r} with the password is not set")
    return value


def connect(mailbox: Mailbox) -> imaplib.IMAP4:
    secret = password(mailbox)  # a missing variable is a configuration error: fail before dialling
    context = ssl.create_default_context()
    if not mailbox.verify_tls:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    timeout = getattr(settings, "HELPDESK_IMAP_TIMEOUT", 30)
    if mailbox.security == Mailbox.Security.IMAPS:
        conn: imaplib.IMAP4 = imaplib.IMAP4_SSL(mailbox.host, mailbox.port, ssl_context=context, timeout=timeout)
    else:
        conn = imaplib.IMAP4(mailbox.host, mailbox.port, timeout=timeout)
        if mailbox.security == Mailbox.Security.STARTTLS:
            conn.starttls(ssl_context=context)
    conn.login(mailbox.username, secret)
    return conn


def _ok(response: tuple) -> list:
    typ, data = response
    if typ != "OK":
        raise MailboxError(f"IMAP error: {data!r}")
    return data


def _fetch_new(mailbox: Mailbox) -> int:
    """Store every message after last_uid (up to a batch); returns how many remain on the server."""
    conn = connect(mailbox)
    try:
        _ok(conn.select(_quote(mailbox.folder)))
        last_uid = _sync_uidvalidity(mailbox, conn)
        uids = _new_uids(conn, last_uid)
        batch = getattr(settings, "HELPDESK_IMAP_BATCH", 200)
        for chunk in _chunks(conn, uids[:batch]):
            _store_chunk(mailbox, conn, chunk)
        return max(0, len(uids) - batch)
    finally:
        try:
            conn.logout()
        except Exception:  # noqa: BLE001, S110 - the connection may already be dead; nothing to clean up
            pass


_FETCHED_UID = re.compile(rb"\bUID (\d+)")
_FETCHED_SIZE = re.compile(rb"\bRFC822\.SIZE (\d+)")


def _chunks(conn: imaplib.IMAP4, uids: list[int]) -> list[list[int]]:
    """The UIDs in order, cut into chunks fetched and stored together: at most HELPDESK_INBOUND_BATCH
    mails and HELPDESK_INBOUND_BATCH_BYTES of them (at least one), so that a mailbox full of large
    attachments is never held in memory at once. The sizes come in one FETCH of RFC822.SIZE."""
    if not uids:
        return []
    sizes = {}
    for line in _ok(conn.uid("FETCH", _uid_set(uids), "(RFC822.SIZE)")):
        header = line[0] if isinstance(line, tuple) else line
        uid, size = _FETCHED_UID.search(header or b""), _FETCHED_SIZE.search(header or b"")
        if uid and size:
            sizes[int(uid.group(1))] = int(size.group(1))
    most, budget = settings.HELPDESK_INBOUND_BATCH, settings.HELPDESK_INBOUND_BATCH_BYTES
    chunks, chunk, used = [], [], 0
    for uid in uids:
        size = sizes.get(uid, 0)
        if chunk and (len(chunk) >= most or used + size > budget):
            chunks.append(chunk)
            chunk, used = [], 0
        chunk.append(uid)
        used += size
    return [*chunks, chunk]


def _uid_set(uids: list[int]) -> str:
    """1,2,3,5,7,8 -> '1:3,5,7:8' (sorted input): a short command line for a long run of UIDs."""
    runs: list[list[int]] = []
    for uid in uids:
        if runs and uid == runs[-1][1] + 1:
            runs[-1][1] = uid
        else:
            runs.append([uid, uid])
    return ",".join(str(a) if a == b else f"{a}:{b}" for a, b in runs)


def _store_chunk(mailbox: Mailbox, conn: imaplib.IMAP4, chunk: list[int]) -> None:
    """One FETCH for the chunk, one commit for all of its mails (services.receive_many), and only then
    the \\Seen flags and the new last_uid. A UID that vanished between SEARCH and FETCH (expunged by
    another client) stops the poll after what came before it is stored; the next poll goes on after it."""
    fetched = {}
    data = _ok(conn.uid("FETCH", _uid_set(chunk), "(BODY.PEEK[])"))
    for i, part in enumerate(data):
        if not isinstance(part, tuple):
            continue
        # The server may send the UID before the message's literal or after it (the next line).
        after = data[i + 1] if i + 1 < len(data) and isinstance(data[i + 1], bytes) else b""
        uid = _FETCHED_UID.search(part[0]) or _FETCHED_UID.search(after)
        if uid is not None:
            fetched[int(uid.group(1))] = part[1]
    arrived = list(takewhile(lambda uid: uid in fetched, chunk))
    if arrived:
        receive_many([fetched[uid] for uid in arrived], source=mailbox.source, mailbox=mailbox)  # committed here
        _ok(conn.uid("STORE", _uid_set(arrived), "+FLAGS", "(\\Seen)"))
        Mailbox.objects.filter(pk=mailbox.pk, last_uid__lt=arrived[-1]).update(last_uid=arrived[-1])
    if len(arrived) < len(chunk):
        raise MailboxError(f"UID {chunk[len(arrived)]} vanished before it could be fetched")


def _quote(folder: str) -> str:
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _sync_uidvalidity(mailbox: Mailbox, conn: imaplib.IMAP4) -> int:
    _, data = conn.response("UIDVALIDITY")
    value = int(data[0]) if data and data[0] else None
    if value is None:
        status = _ok(conn.status(_quote(mailbox.folder), "(UIDVALIDITY)"))
        value = int(_UIDVALIDITY.search(status[0]).group(1))
    if mailbox.uidvalidity != value:
        # The server renumbered the folder: our last_uid means nothing any more. Start over; the
        # dedupe key makes the re-fetch harmless.
        logger.info("Mailbox %s: UIDVALIDITY %s -> %s, resyncing", mailbox, mailbox.uidvalidity, value)
        Mailbox.objects.filter(pk=mailbox.pk).update(uidvalidity=value, last_uid=0)
        mailbox.uidvalidity, mailbox.last_uid = value, 0
    return mailbox.last_uid


def _new_uids(conn: imaplib.IMAP4, last_uid: int) -> list[int]:
    data = _ok(conn.uid("SEARCH", None, f"UID {last_uid + 1}:*"))
    # "N:*" always matches the highest UID, even when it is below N: filter.
    return sorted(uid for uid in (int(x) for x in (data[0] or b"").split()) if uid > last_uid)


def _record_failure(mailbox: Mailbox, exc: Exception) -> None:
    Mailbox.objects.filter(pk=mailbox.pk).update(
        consecutive_failures=F("consecutive_failures") + 1,
        last_error=f"{type(exc).__name__}: {exc}"[:2000],
        last_error_at=timezone.now(),
    )
    mailbox.refresh_from_db()
    if mailbox.consecutive_failures == alert_threshold():
        from .health import alert_admins

        alert_admins(mailbox)


def alert_threshold() -> int:
    return getattr(settings, "HELPDESK_MAILBOX_ALERT_AFTER", 3)
