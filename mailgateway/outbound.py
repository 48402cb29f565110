"""Compose and queue outgoing mail (inside the caller's transaction) and send it (in a task)."""

import secrets
import zoneinfo
from collections.abc import Callable
from datetime import timedelta
from email.header import Header
from email.utils import formataddr

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import F, Q
from django.template.loader import render_to_string
from django.utils import timezone, translation

from helpdesk_site.rowsql import insert_unless_exists

from .models import OutboundEmail

MAX_ATTEMPTS = 8
LEASE = timedelta(minutes=5)


def make_message_id(prefix: str) -> str:
    domain = settings.DEFAULT_FROM_EMAIL.rsplit("@", 1)[-1]
    return f"<{prefix}.{secrets.token_hex(8)}@{domain}>"


def _zone(name: str) -> zoneinfo.ZoneInfo | None:
    try:
        return zoneinfo.ZoneInfo(name) if name else None
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return None  # a bad saved value must not stop the mail: fall back to the server's zone


def render_email(template: str, context: dict, language: str, time_zone: str = "") -> tuple[str, str, str]:
    """(subject, text, html) from templates/emails/<template>_{subject,body}.txt/_body.html, in the
    recipient's language and with dates in the recipient's time zone."""
    with translation.override(language or settings.LANGUAGE_CODE), timezone.override(_zone(time_zone)):
        subject = render_to_string(f"emails/{template}_subject.txt", context).strip()
        text = render_to_string(f"emails/{template}_body.txt", context)
        html = render_to_string(f"emails/{template}_body.html", context)
    return " ".join(subject.split()), text, html


def outbound_email(
    *,
    kind: str,
    dedupe_key: str,
    to: list[str],
    subject: str,
    body_text: str,
    body_html: str = "",
    from_email: str = "",
    from_name: str = "",
    cc: list[str] | None = None,
    ticket=None,
    message=None,
    reply_to: str = "",
    in_reply_to: str = "",
    references: str = "",
    message_id: str = "",
    headers: dict | None = None,
    include_attachments: bool = False,
    template: str = "",
    language: str = "",
    time_zone: str = "",
) -> OutboundEmail:
    """An unsaved outbox row, for queue_emails() (or queue_email(), which saves one). With `template`
    (registered with render_when_sent()) subject and bodies are left empty and rendered by the send task."""
    sender = from_email or settings.DEFAULT_FROM_EMAIL
    return OutboundEmail(
        dedupe_key=dedupe_key[:255],
        kind=kind,
        ticket=ticket,
        message=message,
        from_email=formataddr((from_name, sender)) if from_name else sender,
        to=to,
        cc=cc or [],
        reply_to=reply_to,
        subject=subject,
        body_text=body_text,
        body_html=body_html,
        message_id_header=message_id or make_message_id(kind),
        in_reply_to=in_reply_to,
        references=references,
        headers=headers or {},
        include_attachments=include_attachments,
        template=template,
        language=language,
        time_zone=time_zone,
        next_attempt_at=timezone.now(),
    )


# template -> function(outbox row) -> the template context, for mail rendered when it is sent.
_SEND_TIME_CONTEXTS: dict[str, Callable[[OutboundEmail], dict]] = {}


def render_when_sent(template: str, context: Callable[[OutboundEmail], dict]) -> None:
    """Register a template whose mail is queued unrendered (outbound_email(template=...)); `context`
    builds its context from the outbox row when the send task renders it."""
    _SEND_TIME_CONTEXTS[template] = context


def _render_pending(email: OutboundEmail) -> None:
    """Render a mail queued unrendered and store the result, once: retries send the same text."""
    context = _SEND_TIME_CONTEXTS[email.template](email)
    email.subject, email.body_text, email.body_html = render_email(
        email.template, context, email.language, email.time_zone
    )
    email.template = ""
    email.save(update_fields=["subject", "body_text", "body_html", "template"])


def queue_email(*, dedupe_key: str, to: list[str], **fields) -> OutboundEmail | None:
    """Write the outbox row (see outbound_email() for the fields); the send task runs once the surrounding
    transaction commits. A row with the same dedupe_key already queued is returned as it is."""
    if not to:
        return None
    email = outbound_email(dedupe_key=dedupe_key, to=to, **fields)
    # One statement instead of get_or_create's four (SELECT, SAVEPOINT, INSERT, RELEASE). In the mail
    # gateway's pipelined batch it is not waited for (None): if the key was taken after all, the send
    # task finds no row with this pk and skips, and the existing row was queued when it was written.
    if insert_unless_exists(email, "dedupe_key", wait=False) is False:
        return OutboundEmail.objects.get(dedupe_key=email.dedupe_key)
    _send_after_commit([email.pk])
    return email


def queue_emails(emails: list[OutboundEmail]) -> list[OutboundEmail]:
    """Write many outbox rows (built with outbound_email()) with two queries: rows whose dedupe_key is
    already queued are skipped. Each new row is sent by its own task once the transaction commits."""
    keys = {e.dedupe_key for e in emails}
    seen = set(OutboundEmail.objects.filter(dedupe_key__in=keys).values_list("dedupe_key", flat=True)) if keys else set()
    new = []
    for email in emails:
        if email.dedupe_key not in seen and email.to:
            seen.add(email.dedupe_key)
            new.append(email)
    created = OutboundEmail.objects.bulk_create(new)
    _send_after_commit([e.pk for e in created])
    return created


def _send_after_commit(ids: list[int]) -> None:
    if not ids:
        return
    from .tasks import send_outbound_email

    def send() -> None:
        for email_id in ids:
            send_outbound_email.delay(email_id)

    transaction.on_commit(send)


def _claim(email_id: int) -> OutboundEmail | None:
    """Take a lease on a pending row so two workers never send it at the same time."""
    now = timezone.now()
    claimed = OutboundEmail.objects.filter(
        Q(claimed_until__isnull=True) | Q(claimed_until__lt=now), pk=email_id, status=OutboundEmail.Status.PENDING
    ).update(claimed_until=now + LEASE, attempts=F("attempts") + 1)
    return OutboundEmail.objects.get(pk=email_id) if claimed else None


class _EncodedSubjectEmail(EmailMultiAlternatives):
    """Django 5.2 encodes a non-ASCII subject without counting "Subject: " in the line length, so the
    first encoded-word lands on a continuation line and strict parsers keep a leading space in the
    subject ("Subject: \n =?utf-8?b?...?="). Encoding with the header name keeps it on the first line."""

    def message(self, *args, **kwargs):
        msg = super().message(*args, **kwargs)
        if not self.subject.isascii():
            msg.replace_header("Subject", Header(self.subject, "utf-8", header_name="Subject"))
        return msg


def build_message(email: OutboundEmail) -> EmailMultiAlternatives:
    headers = {"Message-ID": email.message_id_header, **email.headers}
    if email.in_reply_to:
        headers["In-Reply-To"] = email.in_reply_to
    if email.references:
        headers["References"] = email.references
    msg = _EncodedSubjectEmail(
        subject=email.subject,
        body=email.body_text,
        from_email=email.from_email,
        to=email.to,
        cc=email.cc,
        reply_to=[email.reply_to] if email.reply_to else None,
        headers=headers,
    )
    if email.body_html:
        msg.attach_alternative(email.body_html, "text/html")
    if email.include_attachments and email.message_id is not None:
        for att in email.message.attachments.all():
            with att.file.open("rb") as fh:
                msg.attach(att.filename, fh.read(), att.content_type)
    return msg


def send_now(email_id: int) -> str:
    """Send one outbox row. Returns 'sent', 'skipped' (already sent/claimed) or 'retry'."""
    email = _claim(email_id)
    if email is None:
        return "skipped"
    try:
        if email.template:
            _render_pending(email)
        build_message(email).send(fail_silently=False)
    except Exception as exc:  # noqa: BLE001 - any transport error is recorded and retried
        _record_failure(email, exc)
        return "retry"
    OutboundEmail.objects.filter(pk=email.pk, sent_at__isnull=True).update(
        status=OutboundEmail.Status.SENT, sent_at=timezone.now(), last_error="", claimed_until=None
    )
    return "sent"


def _record_failure(email: OutboundEmail, exc: Exception) -> None:
    gave_up = email.attempts >= MAX_ATTEMPTS
    delay = timedelta(seconds=min(3600, 30 * 2 ** (email.attempts - 1)))
    OutboundEmail.objects.filter(pk=email.pk).update(
        status=OutboundEmail.Status.FAILED if gave_up else OutboundEmail.Status.PENDING,
        last_error=f"{type(exc).__name__}: {exc}"[:2000],
        next_attempt_at=None if gave_up else timezone.now() + delay,
        claimed_until=None,
    )


def due_email_ids(limit: int = 100) -> list[int]:
    now = timezone.now()
    return list(
        OutboundEmail.objects.filter(status=OutboundEmail.Status.PENDING, next_attempt_at__lte=now)
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
        .values_list("pk", flat=True)[:limit]
    )


def mark_bounced(message_id: str, reason: str) -> int:
    """A delivery-status report came back for one of our mails: show it on the ticket as undelivered.
    sent_at stays set, so the conditional send never sends it again by itself."""
    if not message_id:
        return 0
    return OutboundEmail.objects.filter(message_id_header=f"<{message_id.strip('<>')}>").update(
        status=OutboundEmail.Status.BOUNCED, last_error=reason[:2000]
    )
