"""Mailbox health: admins are told when intake stops, by mail and by a banner in the agent UI."""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.urls import reverse

from accounts.models import User
from departments.permissions import is_agent

from .models import Mailbox
from .outbound import queue_email, render_email


def failing_mailboxes():
    threshold = getattr(settings, "HELPDESK_MAILBOX_ALERT_AFTER", 3)
    return Mailbox.objects.filter(is_active=True, consecutive_failures__gte=threshold).order_by("name")


def admin_recipients() -> list[tuple[str, str]]:
    """(email, language) of settings.ADMINS and every active superuser, without duplicates."""
    found = {email.lower(): "" for _, email in settings.ADMINS}
    for email, language in User.objects.filter(is_superuser=True, is_active=True).values_list("email", "language"):
        found[email.lower()] = language
    return sorted(found.items())


@transaction.atomic
def alert_admins(mailbox: Mailbox) -> int:
    """One alert per failure streak (keyed on when the streak crossed the threshold)."""
    url = settings.SITE_URL + reverse("admin:mailgateway_mailbox_change", args=[mailbox.pk])
    streak = mailbox.last_success_at.isoformat() if mailbox.last_success_at else "never"
    sent = 0
    for email, language in admin_recipients():
        subject, text, html = render_email("mailbox_failing", {"mailbox": mailbox, "url": url}, language)
        queued = queue_email(
            kind="mailbox_failing",
            dedupe_key=f"mailbox-failing:{mailbox.pk}:{streak}:{email}",
            to=[email],
            subject=subject,
            body_text=text,
            body_html=html,
            headers={"Auto-Submitted": "auto-generated"},
        )
        sent += queued is not None
    return sent


def mailbox_health(request):
    """Context processor: failing mailboxes for the banner, shown to agents only."""
    user = getattr(request, "user", None)
    if user is None or not is_agent(user):
        return {}
    return {"failing_mailboxes": list(failing_mailboxes().only("name", "last_error", "last_success_at"))}
