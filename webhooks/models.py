import secrets
import uuid

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Event(models.TextChoices):
    TICKET_CREATED = "ticket.created", _("Ticket created")
    MESSAGE_CREATED = "message.created", _("Message added (customer message, agent reply or internal note)")
    STATUS_CHANGED = "ticket.status_changed", _("Status changed")
    ASSIGNED = "ticket.assigned", _("Assignee changed")
    TRANSFERRED = "ticket.transferred", _("Transferred to another department")
    ESCALATED = "ticket.escalated", _("Escalated (SLA breached)")


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def validate_events(value) -> None:
    if not isinstance(value, list) or not value or not set(value) <= set(Event.values):
        raise ValidationError(_("Choose one or more of: %(events)s") % {"events": ", ".join(Event.values)})


class WebhookEndpoint(models.Model):
    """An admin-configured receiver of signed POSTs about one department's tickets (or all, if blank)."""

    name = models.CharField(_("name"), max_length=100)
    department = models.ForeignKey(
        "departments.Department",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="webhooks",
        verbose_name=_("department"),
        help_text=_("Empty: events of every department."),
    )
    url = models.URLField(_("URL"), max_length=500)
    secret = models.CharField(
        _("signing secret"),
        max_length=100,
        default=new_secret,
        help_text=_("Receivers check X-Helpdesk-Signature: sha256=HMAC-SHA256(secret, timestamp + '.' + body)."),
    )
    events = models.JSONField(_("events"), default=list, validators=[validate_events])
    include_internal_notes = models.BooleanField(
        _("include internal notes"), default=False, help_text=_("Send message.created for internal notes too.")
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("webhook endpoint")
        verbose_name_plural = _("webhook endpoints")
        ordering = ["name", "pk"]

    def __str__(self) -> str:
        return self.name


class WebhookDelivery(models.Model):
    """One event for one endpoint: the durable outbox row, written in the transaction of the change and
    sent by a task after commit, retried with backoff (beat) until delivered or given up. Kept as the log."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting to be delivered")
        DELIVERED = "delivered", _("Delivered")
        FAILED = "failed", _("Failed (gave up)")

    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries")
    event = models.CharField(_("event"), max_length=40, choices=Event.choices)
    delivery_id = models.UUIDField(_("delivery id"), unique=True, default=uuid.uuid4, editable=False)
    ticket = models.ForeignKey(
        "tickets.Ticket", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    payload = models.JSONField(_("payload"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    response_status = models.PositiveSmallIntegerField(_("last HTTP status"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True, default="")
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    claimed_until = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    delivered_at = models.DateTimeField(_("delivered"), null=True, blank=True)

    class Meta:
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["next_attempt_at"], name="webhook_due_idx", condition=Q(status="pending")),
        ]

    def __str__(self) -> str:
        return f"{self.event} → {self.endpoint}"
