"""SLA mail: turns the sweep's Notice rows into outbox rows (sent by the outbox task after commit), each
rendered in its recipient's language and time zone. A batch of notices costs a constant number of
queries. Dedupe keys name the ticket, the due time, the level and the recipient, so even a notice that
were processed twice could not queue the same mail twice."""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from departments.models import Membership
from mailgateway.models import OutboundEmail
from mailgateway.outbound import outbound_email, queue_emails, render_email
from tickets.models import Ticket

from .models import Notice
from .selectors import TARGET_LABELS, active_members

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
GRACE = timedelta(minutes=2)  # the after-commit task normally handles a notice within seconds


def send_notices(notice_ids: list[int] | None = None, *, limit: int = 100) -> int:
    """Queue the mail of these notices (or of any left pending for GRACE). Returns how many were handled.
    The notices are locked (SKIP LOCKED) and marked queued in the transaction that writes their outbox
    rows: a notice is mailed once even if the task runs twice or beside the beat safety net."""
    with transaction.atomic():
        notices = _claim(notice_ids, limit)
        if not notices:
            return 0
        recipients = _Recipients(notices)
        emails, failed = [], {}
        for notice in notices:
            try:
                emails += _render(notice, recipients)
            except Exception as exc:  # a broken template or row must not hold the other notices back
                logger.exception("SLA notice %s could not be rendered", notice.pk)
                failed[notice.pk] = f"{type(exc).__name__}: {exc}"[:2000]
        queue_emails(emails)
        done = [n.pk for n in notices if n.pk not in failed]
        Notice.objects.filter(pk__in=done).update(queued_at=timezone.now())
        for pk, error in failed.items():
            Notice.objects.filter(pk=pk).update(attempts=F("attempts") + 1, last_error=error)
    return len(notices)


def pending_notice_ids(limit: int = 1000) -> list[int]:
    """Notices a killed worker (or a failed render) left unqueued; the beat safety net sends them."""
    return list(
        Notice.objects.filter(
            queued_at__isnull=True, created_at__lte=timezone.now() - GRACE, attempts__lt=MAX_ATTEMPTS
        ).values_list("pk", flat=True)[:limit]
    )


def _claim(notice_ids: list[int] | None, limit: int) -> list[Notice]:
    rows = Notice.objects.select_for_update(skip_locked=True, of=("self",)).filter(queued_at__isnull=True)
    if notice_ids is not None:
        rows = rows.filter(pk__in=notice_ids)
    rows = rows.select_related("ticket__department", "ticket__customer", "ticket__assignee")
    return list(rows.order_by("pk")[:limit])


class _Recipients:
    """Who gets the mail of a batch of notices, read with at most two queries."""

    def __init__(self, notices: list[Notice]) -> None:
        self.members: dict[int, list] = {}
        for membership in active_members({n.ticket.department_id for n in notices}):
            self.members.setdefault(membership.department_id, []).append(membership)
        user_ids = {u for n in notices for u in n.recipients.get("users", ())}
        self.users = User.objects.filter(pk__in=user_ids, is_active=True).in_bulk() if user_ids else {}

    def warning(self, ticket: Ticket) -> list:
        if ticket.assignee is not None and ticket.assignee.is_active:
            return [ticket.assignee]
        return [m.user for m in self.members.get(ticket.department_id, ())]

    def escalation(self, notice: Notice) -> list:
        people = []
        if notice.recipients.get("managers", True):
            people += [
                m.user
                for m in self.members.get(notice.ticket.department_id, ())
                if m.role == Membership.Role.MANAGER
            ]
        people += [self.users[u] for u in notice.recipients.get("users", ()) if u in self.users]
        return people


def _render(notice: Notice, recipients: _Recipients) -> list[OutboundEmail]:
    ticket = notice.ticket
    context = {
        "ticket": ticket,
        "customer": ticket.customer,
        "target": TARGET_LABELS.get(notice.target, notice.target),
        "due": notice.due,
        "now": notice.created_at,
        "waiting_since": ticket.waiting_since or ticket.created_at,
        "url": settings.SITE_URL + reverse("agent_ticket", args=[ticket.number]),
    }
    if notice.kind == Notice.Kind.WARNING:
        key = f"sla-warning:{ticket.pk}:{notice.due.timestamp()}"
        people, template, addresses = recipients.warning(ticket), "sla_warning", []
    else:
        context["level"] = notice.level
        key = f"sla-escalated:{ticket.pk}:{notice.due.timestamp()}:{notice.level}"
        people, template = recipients.escalation(notice), "sla_escalated"
        addresses = notice.recipients.get("emails", [])
    emails, seen = [], set()
    for person in people:
        if person.email.lower() not in seen:
            seen.add(person.email.lower())
            emails.append(
                _email(
                    ticket,
                    template,
                    key,
                    person.email,
                    person.language,
                    person.time_zone,
                    {**context, "recipient": person},
                )
            )
    for address in addresses:
        if address.lower() not in seen:
            seen.add(address.lower())
            emails.append(
                _email(
                    ticket, template, key, address, settings.LANGUAGE_CODE, "", {**context, "recipient": None}
                )
            )
    return emails


def _email(
    ticket, template: str, key: str, to: str, language: str, time_zone: str, context: dict
) -> OutboundEmail:
    subject, text, html = render_email(template, context, language, time_zone)
    return outbound_email(
        kind=template,
        dedupe_key=f"{key}:{to}",
        to=[to],
        subject=subject,
        body_text=text,
        body_html=html,
        ticket=ticket,
        headers={"Auto-Submitted": "auto-generated"},
    )
