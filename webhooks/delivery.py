"""Sending webhook deliveries: signed POST, lease so two workers never send one row at once, backoff."""

import hashlib
import hmac
import json
import time
from datetime import timedelta

import requests
from django.conf import settings
from django.db.models import F, Q
from django.utils import timezone

from .models import WebhookDelivery

LEASE = timedelta(minutes=2)
SIGNATURE_HEADER = "X-Helpdesk-Signature"


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """`sha256=<hex>` over "<timestamp>.<body>": the timestamp lets receivers refuse old replays."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def body_of(delivery: WebhookDelivery) -> bytes:
    return json.dumps({"id": str(delivery.delivery_id), **delivery.payload}, ensure_ascii=False).encode()


def _claim(delivery_id: int) -> WebhookDelivery | None:
    now = timezone.now()
    claimed = WebhookDelivery.objects.filter(
        Q(claimed_until__isnull=True) | Q(claimed_until__lt=now),
        pk=delivery_id,
        status=WebhookDelivery.Status.PENDING,
    ).update(claimed_until=now + LEASE, attempts=F("attempts") + 1)
    return WebhookDelivery.objects.select_related("endpoint").get(pk=delivery_id) if claimed else None


def deliver_now(delivery_id: int) -> str:
    """POST one delivery. Returns 'delivered', 'retry', 'failed' or 'skipped' (not pending, or claimed)."""
    delivery = _claim(delivery_id)
    if delivery is None:
        return "skipped"
    body = body_of(delivery)
    timestamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "Helpdesk-Webhooks/1",
        "X-Helpdesk-Event": delivery.event,
        "X-Helpdesk-Delivery": str(delivery.delivery_id),
        "X-Helpdesk-Timestamp": timestamp,
        SIGNATURE_HEADER: sign(delivery.endpoint.secret, timestamp, body),
    }
    try:
        response = requests.post(
            delivery.endpoint.url, data=body, headers=headers,
            timeout=settings.HELPDESK_WEBHOOK_TIMEOUT, allow_redirects=False,
        )
    except requests.RequestException as exc:
        return _failed(delivery, None, f"{type(exc).__name__}: {exc}")
    if 200 <= response.status_code < 300:
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            status=WebhookDelivery.Status.DELIVERED, delivered_at=timezone.now(),
            response_status=response.status_code, last_error="", claimed_until=None, next_attempt_at=None,
        )
        return "delivered"
    return _failed(delivery, response.status_code, response.text[:500])


def _failed(delivery: WebhookDelivery, status: int | None, error: str) -> str:
    gave_up = delivery.attempts >= settings.HELPDESK_WEBHOOK_MAX_ATTEMPTS
    delay = timedelta(seconds=min(6 * 3600, 30 * 2 ** (delivery.attempts - 1)))
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        status=WebhookDelivery.Status.FAILED if gave_up else WebhookDelivery.Status.PENDING,
        response_status=status,
        last_error=error[:2000],
        next_attempt_at=None if gave_up else timezone.now() + delay,
        claimed_until=None,
    )
    return "failed" if gave_up else "retry"


def due_delivery_ids(limit: int = 100) -> list[int]:
    now = timezone.now()
    return list(
        WebhookDelivery.objects.filter(status=WebhookDelivery.Status.PENDING, next_attempt_at__lte=now)
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )


def redeliver(delivery: WebhookDelivery) -> None:
    """Admin action: try a failed or pending delivery again now."""
    WebhookDelivery.objects.filter(pk=delivery.pk).exclude(status=WebhookDelivery.Status.DELIVERED).update(
        status=WebhookDelivery.Status.PENDING, next_attempt_at=timezone.now(), claimed_until=None
    )
