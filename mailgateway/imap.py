"""IMAP polling: fetch by UID, store each message, and only then flag it \\Seen.

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

from django.conf import settings
from django.db.models import F, Q
from django.utils import timezone

from .models import Mailbox
from .services import receive

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
        for uid in uids[:batch]:
            _store_one(mailbox, conn, uid)
        return max(0, len(uids) - batch)
    finally:
        try:
            conn.logout()
        except Exception:  # noqa: BLE001, S110 - the connection may already be dead; nothing to clean up
            pass


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


def _store_one(mailbox: Mailbox, conn: imaplib.IMAP4, uid: int) -> None:
    data = _ok(conn.uid("FETCH", str(uid), "(BODY.PEEK[])"))
    raw = next((part[1] for part in data if isinstance(part, tuple)), None)
    if raw is None:
        raise MailboxError(f"UID {uid} vanished before it could be fetched")
    receive(raw, source=mailbox.source, mailbox=mailbox)  # committed here, before the server is told
    _ok(conn.uid("STORE", str(uid), "+FLAGS", "(\\Seen)"))
    Mailbox.objects.filter(pk=mailbox.pk, last_uid__lt=uid).update(last_uid=uid)


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
