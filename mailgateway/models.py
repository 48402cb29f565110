from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class OutboundEmail(models.Model):
    """The durable outbox: a row is written in the same transaction as the change that causes the mail,
    and a Celery task sends it after commit, retrying with backoff. Marked sent with a conditional
    UPDATE so that it is never sent twice by two workers."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting to be sent")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed (gave up)")
        BOUNCED = "bounced", _("Bounced by the recipient's server")

    ticket = models.ForeignKey(
        "tickets.Ticket", on_delete=models.CASCADE, null=True, blank=True, related_name="outbound_emails"
    )
    message = models.ForeignKey(
        "tickets.Message", on_delete=models.CASCADE, null=True, blank=True, related_name="outbound_emails"
    )
    kind = models.CharField(_("kind"), max_length=30)
    dedupe_key = models.CharField(max_length=255, unique=True, help_text=_("One mail per (event, recipient)"))
    from_email = models.CharField(_("from"), max_length=255)
    to = models.JSONField(_("to"), default=list)
    cc = models.JSONField(_("cc"), default=list, blank=True)
    reply_to = models.CharField(max_length=255, blank=True, default="")
    subject = models.CharField(_("subject"), max_length=998)
    body_text = models.TextField()
    body_html = models.TextField(blank=True, default="")
    message_id_header = models.CharField("Message-ID", max_length=255, unique=True)
    in_reply_to = models.CharField(max_length=998, blank=True, default="")
    references = models.TextField(blank=True, default="")
    headers = models.JSONField(default=dict, blank=True)
    include_attachments = models.BooleanField(default=False)
    # Mail rendered when it is sent, not when it is queued (the mail gateway's acknowledgements: rendering
    # three templates per new ticket cost ~1 ms of the ingestion CPU). While `template` is set,
    # subject and bodies are empty; the send task renders them in `language`/`time_zone`, stores them here
    # and clears `template`, so a retry sends the same text and the admin shows what went out.
    template = models.CharField(max_length=60, blank=True, default="")
    language = models.CharField(_("language"), max_length=15, blank=True, default="")
    time_zone = models.CharField(_("time zone"), max_length=63, blank=True, default="")

    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True, default="")
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    claimed_until = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)

    class Meta:
        verbose_name = _("outgoing email")
        verbose_name_plural = _("outgoing emails")
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["next_attempt_at"], name="outbound_due_idx", condition=Q(status="pending")),
        ]

    def __str__(self) -> str:
        # A mail rendered when sent has no subject before that.
        return f"{self.subject or self.kind} → {', '.join(self.to)}"


class Mailbox(models.Model):
    """An IMAP mailbox polled for new mail. The password is never stored here: the row names an
    environment variable that holds it, so a database dump leaks no credentials."""

    class Security(models.TextChoices):
        IMAPS = "imaps", _("IMAPS (TLS from the start)")
        STARTTLS = "starttls", _("STARTTLS")
        PLAIN = "plain", _("Plain (loopback/testing only)")

    name = models.CharField(_("name"), max_length=100)
    host = models.CharField(_("host"), max_length=255)
    port = models.PositiveIntegerField(_("port"), default=993)
    security = models.CharField(_("security"), max_length=10, choices=Security.choices, default=Security.IMAPS)
    username = models.CharField(_("user name"), max_length=255)
    password_env = models.CharField(
        _("password environment variable"),
        max_length=100,
        help_text=_("Name of the environment variable that holds the password, e.g. IMAP_SUPPORT_PASSWORD."),
    )
    verify_tls = models.BooleanField(
        _("verify TLS certificate"), default=True, help_text=_("Turn off only for a server with a self-signed certificate.")
    )
    folder = models.CharField(_("folder"), max_length=255, default="INBOX")
    department = models.ForeignKey(
        "departments.Department",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        verbose_name=_("default department"),
        help_text=_("Used when no inbound address or routing rule matches."),
    )
    is_active = models.BooleanField(_("active"), default=True)

    # Sync state: UIDs are only meaningful together with the folder's UIDVALIDITY.
    uidvalidity = models.BigIntegerField(null=True, blank=True)
    last_uid = models.BigIntegerField(default=0)
    # A lease instead of a lock held in a transaction: an IMAP round trip must never keep a DB
    # transaction open, and the lease expires by itself if the worker dies mid-poll.
    poll_lease_until = models.DateTimeField(null=True, blank=True)

    # Health, shown in the admin and (when failing) as a banner to agents.
    last_success_at = models.DateTimeField(_("last successful fetch"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True, default="")
    last_error_at = models.DateTimeField(_("last error at"), null=True, blank=True)
    consecutive_failures = models.PositiveIntegerField(_("consecutive failures"), default=0)
    backlog = models.PositiveIntegerField(_("backlog"), default=0, help_text=_("Messages left on the server."))

    class Meta:
        verbose_name = _("mailbox")
        verbose_name_plural = _("mailboxes")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def source(self) -> str:
        return f"imap:{self.pk}"


class InboundEmail(models.Model):
    """One received message, stored raw before anything else happens to it.

    dedupe_key is unique across all sources (Message-ID, or a SHA-256 of the bytes when there is none):
    the same message arriving at support@ and sales@, or via IMAP and the MTA pipe, is one delivery and
    must make one ticket, not two.
    """

    class Status(models.TextChoices):
        RECEIVED = "received", _("Received, waiting to be processed")
        PROCESSED = "processed", _("Processed")
        QUARANTINED = "quarantined", _("Quarantined (processing failed)")
        HELD = "held", _("Held for an agent (unknown sender)")

    class Action(models.TextChoices):
        CREATED = "created", _("Created a ticket")
        APPENDED = "appended", _("Appended to a ticket")
        AUTOREPLY = "ignored_autoreply", _("Automatic reply, recorded only")
        BOUNCE = "bounce", _("Delivery failure, recorded only")
        HELD = "held", _("Held for an agent")
        QUARANTINED = "quarantined", _("Quarantined")
        REJECTED = "rejected", _("Rejected by an agent")

    dedupe_key = models.CharField(max_length=1000, unique=True)
    message_id_header = models.CharField("Message-ID", max_length=998, blank=True, default="")
    source = models.CharField(_("source"), max_length=50, help_text=_("pipe, imap:<mailbox>, webhook:<esp>"))
    mailbox = models.ForeignKey(Mailbox, on_delete=models.SET_NULL, null=True, blank=True, related_name="messages")
    raw = models.BinaryField(_("raw message"))
    size = models.PositiveIntegerField(_("size"), default=0)

    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.RECEIVED)
    action = models.CharField(_("action"), max_length=20, choices=Action.choices, blank=True, default="")
    error = models.TextField(_("error"), blank=True, default="")
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)

    # Filled in by processing (also for held mail, so the admin list is readable).
    subject = models.CharField(_("subject"), max_length=998, blank=True, default="")
    from_email = models.CharField(_("from"), max_length=320, blank=True, default="")
    ticket = models.ForeignKey(
        "tickets.Ticket", on_delete=models.SET_NULL, null=True, blank=True, related_name="inbound_emails"
    )
    message = models.ForeignKey(
        "tickets.Message", on_delete=models.SET_NULL, null=True, blank=True, related_name="inbound_emails"
    )
    department = models.ForeignKey("departments.Department", on_delete=models.SET_NULL, null=True, blank=True)
    attachments = models.JSONField(default=list, blank=True)
    dropped = models.JSONField(default=list, blank=True)

    received_at = models.DateTimeField(_("received"), auto_now_add=True)
    processed_at = models.DateTimeField(_("processed"), null=True, blank=True)

    class Meta:
        verbose_name = _("incoming email")
        verbose_name_plural = _("incoming emails")
        ordering = ["-received_at"]
        indexes = [
            models.Index(fields=["received_at"], name="inbound_pending_idx", condition=Q(status="received")),
            models.Index(fields=["status", "-received_at"], name="inbound_status_idx"),
        ]

    def __str__(self) -> str:
        return self.subject or self.message_id_header or f"#{self.pk}"
