"""API state changes: personal tokens and idempotency records. Ticket changes go through tickets.services."""

import hashlib
import json
import secrets
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from .models import ApiToken, IdempotencyRecord

TOKEN_PREFIX = "hd_"  # noqa: S105 - a public marker that makes leaked tokens easy to scan for
LAST_USED_PRECISION = timedelta(minutes=1)  # do not write the row on every request
IDEMPOTENCY_TTL = timedelta(hours=24)


def token_create(*, user, name: str) -> tuple[ApiToken, str]:
    """A new token and its secret. The secret is returned only here: it is never stored."""
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user, name=name.strip()[:100], prefix=secret[:10], key_hash=ApiToken.hash(secret)
    )
    return token, secret


def token_revoke(*, token: ApiToken) -> None:
    ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())


def token_authenticate(secret: str) -> ApiToken | None:
    """The live token with this secret (with its user), recording when it was last used."""
    token = ApiToken.objects.usable().select_related("user").filter(key_hash=ApiToken.hash(secret)).first()
    if token is None:
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_PRECISION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token


def fingerprint(method: str, path: str, body: bytes) -> str:
    return hashlib.sha256(json.dumps([method, path]).encode() + b"\0" + body).hexdigest()


class IdempotencyConflict(Exception):
    """The key was used with another request, or its first request is still running."""

    def __init__(self, reason: str):
        self.reason = reason
        super().__init__(reason)


def idempotency_begin(*, user, key: str, fingerprint: str) -> IdempotencyRecord | None:
    """Reserve the key. Returns the finished record to replay, or None when the caller goes ahead.
    The reservation commits at once, so a concurrent retry sees it and gets a conflict."""
    IdempotencyRecord.objects.filter(created_at__lt=timezone.now() - IDEMPOTENCY_TTL).delete()
    try:
        with transaction.atomic():
            IdempotencyRecord.objects.create(user=user, key=key, fingerprint=fingerprint)
            return None
    except IntegrityError:
        record = IdempotencyRecord.objects.get(user=user, key=key)
    if record.fingerprint != fingerprint:
        raise IdempotencyConflict("mismatch")
    if record.status_code is None:
        raise IdempotencyConflict("in_progress")
    return record


def idempotency_finish(*, user, key: str, status_code: int, response) -> None:
    IdempotencyRecord.objects.filter(user=user, key=key).update(status_code=status_code, response=response)


def idempotency_abandon(*, user, key: str) -> None:
    """The request failed without a result worth replaying: the client may retry with the same key."""
    IdempotencyRecord.objects.filter(user=user, key=key, status_code__isnull=True).delete()
