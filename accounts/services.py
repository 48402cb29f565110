"""Account state changes: registration, email verification, read marks. Mail goes through the outbox."""

import secrets

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.encoding import force_str
from django.utils.http import urlsafe_base64_decode

from mailgateway.outbound import queue_email, render_email

from .models import TicketReadMark, User
from .tokens import email_verification_token, set_password_url, verification_url


def is_pending_registration(user: User) -> bool:
    """Registered but the link not clicked yet (departed staff and blocked customers are also inactive)."""
    return (
        not user.is_active
        and user.email_verified_at is None
        and not user.is_agent
        and user.has_usable_password()
    )


@transaction.atomic
def register_customer(
    *, email: str, password: str, display_name: str = "", language: str = "", time_zone: str = ""
) -> User | None:
    """Create an inactive customer and mail the verification link.

    An address that already has an account gets a mail instead of an error on the page, so the form
    never tells a stranger who is registered: a pending one gets the link again, an email-only
    (lazily created) customer gets a claim link, an active one a reminder with a reset link.
    Returns the new user, or None when the address was already known.
    """
    existing = User.objects.filter(email__iexact=email.strip()).first()
    if existing is None:
        user = User.objects.create_user(
            email,
            password,
            display_name=display_name,
            language=language,
            time_zone=time_zone,
            is_active=False,
        )
        send_verification(user)
        return user
    if is_pending_registration(existing):
        send_verification(existing)
    elif existing.is_active:
        _mail(
            existing,
            "account_exists",
            "exists",
            {"reset_url": set_password_url(existing), "claim": not existing.has_usable_password()},
        )
    return None


def send_verification(user: User) -> None:
    _mail(user, "verify_email", "verify", {"verify_url": verification_url(user)})


def _mail(user: User, template: str, key: str, context: dict) -> None:
    ctx = {"user": user, "site_url": settings.SITE_URL, **context}
    subject, text, html = render_email(template, ctx, user.language, user.time_zone)
    # Each request is its own mail (there is no event row to dedupe on); the outbox still retries it.
    queue_email(
        kind=template,
        dedupe_key=f"{key}:{user.pk}:{secrets.token_hex(8)}",
        to=[user.email],
        subject=subject,
        body_text=text,
        body_html=html,
        headers={"Auto-Submitted": "auto-generated"},
    )


def user_from_uid(uidb64: str) -> User | None:
    try:
        return User.objects.get(pk=int(force_str(urlsafe_base64_decode(uidb64))))
    except (TypeError, ValueError, OverflowError, User.DoesNotExist):
        return None


@transaction.atomic
def verify_email(*, uidb64: str, token: str) -> User | None:
    """Activate a pending registration from its link; None if the link is invalid, used or expired."""
    user = user_from_uid(uidb64)
    if user is None:
        return None
    user = User.objects.select_for_update().get(pk=user.pk)
    if not is_pending_registration(user) or not email_verification_token.check_token(user, token):
        return None
    user.is_active = True
    user.email_verified_at = timezone.now()
    user.save(update_fields=["is_active", "email_verified_at"])
    return user


def mark_email_verified(user: User) -> None:
    """A password set through a link mailed to the address proves the address too."""
    if user.email_verified_at is None:
        user.email_verified_at = timezone.now()
        user.save(update_fields=["email_verified_at"])


def send_password_reset(user: User, *, reset_url: str) -> None:
    claim = not user.has_usable_password()
    _mail(user, "password_reset", "reset", {"reset_url": reset_url, "claim": claim})


def mark_ticket_seen(*, user: User, ticket) -> None:
    TicketReadMark.objects.update_or_create(user=user, ticket=ticket, defaults={"seen_at": timezone.now()})


def claim_url_if_needed(user: User) -> str:
    """The set-password link for a customer created from an email, '' for one who has a password."""
    if user.is_active and not user.is_agent and not user.has_usable_password():
        return set_password_url(user)
    return ""


def customer_for_email(email: str, *, name: str = "") -> User:
    """The account with this address, created without a password when new (he may claim it later), as
    the mail gateway does for a first email. Used when an agent files a ticket on a customer's behalf."""
    email = email.strip().lower()
    user = User.objects.filter(email__iexact=email).first()
    if user is not None:
        return user
    try:
        with transaction.atomic():
            return User.objects.create_user(email=email, display_name=name.strip()[:150])
    except IntegrityError:  # created by a concurrent request a moment ago
        return User.objects.get(email__iexact=email)


def regenerate_feed_key(user: User) -> str:
    """A new secret for the user's feed URLs: every feed URL handed out before stops working."""
    user.feed_key = secrets.token_urlsafe(32)
    user.save(update_fields=["feed_key"])
    return user.feed_key


__all__ = [
    "claim_url_if_needed",
    "customer_for_email",
    "regenerate_feed_key",
    "is_pending_registration",
    "mark_email_verified",
    "mark_ticket_seen",
    "register_customer",
    "send_password_reset",
    "send_verification",
    "verify_email",
]
