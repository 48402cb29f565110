"""Signed, table-free links for accounts (like django.contrib.auth.tokens)."""

from django.conf import settings
from django.contrib.auth.tokens import PasswordResetTokenGenerator, default_token_generator
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode


class EmailVerificationTokenGenerator(PasswordResetTokenGenerator):
    """A verification link stops working once used: the hash covers is_active and the verified stamp."""

    key_salt = "accounts.tokens.EmailVerificationTokenGenerator"

    def _make_hash_value(self, user, timestamp):
        verified = (
            user.email_verified_at.replace(microsecond=0, tzinfo=None) if user.email_verified_at else ""
        )
        return f"{user.pk}{user.email}{user.is_active}{verified}{timestamp}"


email_verification_token = EmailVerificationTokenGenerator()


def uid_for(user) -> str:
    return urlsafe_base64_encode(force_bytes(user.pk))


def verification_url(user) -> str:
    path = reverse("verify_email", args=[uid_for(user), email_verification_token.make_token(user)])
    return settings.SITE_URL + path


def set_password_url(user) -> str:
    """Django's reset-confirm link; also how a lazily created (email-only) customer claims the account."""
    path = reverse("password_reset_confirm", args=[uid_for(user), default_token_generator.make_token(user)])
    return settings.SITE_URL + path
