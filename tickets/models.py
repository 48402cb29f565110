import hashlib

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from .choices import ACTIVE_STATUSES, Channel, Priority, Status
from .querysets import TicketQuerySet

__all__ = [
    "Attachment",
    "CannedResponse",
    "Channel",
    "Message",
    "Participant",
    "Priority",
    "Product",
    "Rating",
    "Status",
    "Ticket",
    "TicketEvent",
    "TicketLink",
]


class Product(models.Model):
    """A product or service customers can name in a ticket (hosting plan, domain, VPS...)."""

    name = models.CharField(_("name"), max_length=150)
    is_active = models.BooleanField(_("active"), default=True)
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        verbose_name = _("product or service")
        verbose_name_plural = _("products and services")
        ordering = ["position", "name"]

    def __str__(self) -> str:
        return self.name


class Ticket(models.Model):
    number = models.BigIntegerField(_("reference"), unique=True, editable=False)
    subject = models.CharField(_("subject"), max_length=255)
    # customer and assignee: no single-column indexes, ticket_customer_idx / ticket_assignee_idx start with
    # them. Every index is written by each non-HOT ticket UPDATE (the SLA sweep, replies), so none is spare.
    customer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="tickets",
        verbose_name=_("customer"),
        db_index=False,
    )
    # No index of its own: ticket_queue_idx starts with the department. A second, narrower index on the
    # column alone misled the planner into reading whole departments for queue counts (agent_pages.md).
    department = models.ForeignKey(
        "departments.Department",
        on_delete=models.PROTECT,
        related_name="tickets",
        verbose_name=_("department"),
        db_index=False,
    )
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.NEW)
    priority = models.PositiveSmallIntegerField(_("priority"), choices=Priority.choices, default=Priority.NORMAL)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="assigned_tickets",
        verbose_name=_("assignee"),
        db_index=False,
    )
    # product and merged_into are mostly empty: partial indexes (Meta) hold only the rows that have one.
    product = models.ForeignKey(
        Product,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        verbose_name=_("product or service"),
        db_index=False,
    )
    fields = models.JSONField(_("details"), default=dict, blank=True)
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices, default=Channel.WEB)
    merged_into = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="merged_tickets", db_index=False
    )

    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("last activity"), auto_now_add=True)
    # Stored when they happen so reports never recompute them from history.
    first_response_at = models.DateTimeField(_("first response"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    # Set while the customer waits for us (last public message is the customer's); null otherwise.
    waiting_since = models.DateTimeField(_("waiting since"), null=True, blank=True)

    # SLA clocks, recomputed by the services that change the ticket; the sweep reads these columns.
    first_response_due_at = models.DateTimeField(null=True, blank=True)
    next_response_due_at = models.DateTimeField(null=True, blank=True)
    resolution_due_at = models.DateTimeField(null=True, blank=True)
    escalated_at = models.DateTimeField(_("escalated"), null=True, blank=True)
    escalation_level = models.PositiveSmallIntegerField(default=0)
    # SLA clock state (sla.services.recompute / sla.sweep): the next instant the sweep must look at this
    # ticket (warning or escalation), the pending warning, and the resolution clock, which stops while the
    # ticket waits for the customer or is resolved: business seconds used in earlier periods, and since when
    # it runs again. db_default keeps raw INSERTs (generate_dataset) valid. sla_check_at has no index here:
    # the sweep finds due tickets through sla.Clock, its trigger-kept copy (see sla.sql for why).
    sla_check_at = models.DateTimeField(null=True, blank=True)
    sla_warn_at = models.DateTimeField(null=True, blank=True)
    sla_resumed_at = models.DateTimeField(null=True, blank=True)
    sla_elapsed = models.PositiveIntegerField(default=0, db_default=0)

    # Report figures (reports app), written by tickets.services.report_times when they happen: seconds of
    # wall-clock time and of the department's business hours (equal when it has none). Resolution is
    # cleared on reopen and measured again, from creation, when the ticket is resolved again.
    first_response_seconds = models.PositiveIntegerField(_("first response time"), null=True, blank=True)
    first_response_business_seconds = models.PositiveIntegerField(null=True, blank=True)
    first_responder = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("first responder"),
        db_index=False,  # a partial index (Meta), only on tickets that have one
    )
    resolution_seconds = models.PositiveIntegerField(_("resolution time"), null=True, blank=True)
    resolution_business_seconds = models.PositiveIntegerField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("resolved by"),
        db_index=False,  # a partial index (Meta), only on tickets that have one
    )

    objects = TicketQuerySet.as_manager()

    class Meta:
        verbose_name = _("ticket")
        verbose_name_plural = _("tickets")
        indexes = [
            models.Index(fields=["department", "status", "-updated_at"], name="ticket_queue_idx"),
            models.Index(fields=["customer", "-updated_at"], name="ticket_customer_idx"),
            models.Index(fields=["assignee", "status"], name="ticket_assignee_idx"),
            models.Index(
                fields=["first_response_due_at"],
                name="ticket_frt_due_idx",
                condition=Q(first_response_due_at__isnull=False),
            ),
            models.Index(
                fields=["next_response_due_at"],
                name="ticket_nrt_due_idx",
                condition=Q(next_response_due_at__isnull=False),
            ),
            models.Index(
                fields=["resolution_due_at"], name="ticket_res_due_idx", condition=Q(resolution_due_at__isnull=False)
            ),
            models.Index(fields=["product"], name="ticket_product_idx", condition=Q(product__isnull=False)),
            models.Index(fields=["merged_into"], name="ticket_merged_into_idx", condition=Q(merged_into__isnull=False)),
            # Deleting an account: PostgreSQL checks each deleted user's references at commit (and Django's
            # PROTECT asks first). Without these, two scans of the whole ticket table per deleted user.
            # Partial: a new ticket has neither, so mail intake writes no entry.
            models.Index(
                fields=["first_responder"], name="ticket_first_responder_idx", condition=Q(first_responder__isnull=False)
            ),
            models.Index(fields=["resolved_by"], name="ticket_resolved_by_idx", condition=Q(resolved_by__isnull=False)),
            # Reports: one department over a period (created, resolved, first response), index-only where
            # the aggregated columns are included.
            models.Index(
                fields=["department", "created_at"],
                name="ticket_report_created_idx",
                # id and assignee: breaches join events to the department's tickets from this index alone
                include=["resolved_at", "assignee", "id"],
            ),
            models.Index(
                fields=["department", "resolved_at"],
                name="ticket_report_resolved_idx",
                include=["resolution_seconds", "resolution_business_seconds", "resolved_by"],
                condition=Q(resolved_at__isnull=False),
            ),
            models.Index(
                fields=["department", "first_response_at"],
                name="ticket_report_frt_idx",
                include=["first_response_seconds", "first_response_business_seconds", "first_responder"],
                condition=Q(first_response_at__isnull=False),
            ),
            # Agent queues read only active tickets (about 2% of a mature helpdesk): partial indexes in the
            # queue's default order (last activity first) let a page stop after 50 index entries, and their
            # size follows the open workload, not the history (benchmarks/agent_pages.md).
            models.Index(
                "department",
                F("updated_at").desc(),
                F("id").desc(),
                name="ticket_active_dept_idx",
                condition=Q(status__in=ACTIVE_STATUSES),
            ),
            models.Index(
                "assignee",
                F("updated_at").desc(),
                F("id").desc(),
                name="ticket_active_assignee_idx",
                condition=Q(status__in=ACTIVE_STATUSES),
            ),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(priority__gte=1, priority__lte=4), name="ticket_priority_range"),
            models.CheckConstraint(condition=~Q(merged_into=models.F("id")), name="ticket_not_merged_into_self"),
        ]

    def __str__(self) -> str:
        return f"{self.reference} {self.subject}"

    @property
    def reference(self) -> str:
        return f"#{self.number}"

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES


class Message(models.Model):
    class Kind(models.TextChoices):
        CUSTOMER = "customer", _("Customer message")
        REPLY = "reply", _("Agent reply")
        NOTE = "note", _("Internal note")
        EVENT = "event", _("System event")

    PUBLIC_KINDS = (Kind.CUSTOMER, Kind.REPLY)
    timeline_template = "tickets/_message.html"

    # No single-column indexes on ticket and author: message_ticket_idx and message_author_idx lead with
    # them, and every message INSERT (the mail gateway writes one per mail) paid for the duplicates.
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="messages", db_index=False)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices, default=Channel.WEB)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="messages",
        verbose_name=_("author"),
        db_index=False,
    )
    body_text = models.TextField(_("text"), blank=True)
    body_html = models.TextField(_("HTML"), blank=True, help_text=_("Sanitized before storing."))
    cc = models.JSONField(_("Cc"), default=list, blank=True)
    # The body as the timeline shows it (quote split, HTML sanitized again, text escaped and paragraphed),
    # rendered once when the message is stored (tickets.message_body) instead of at every page view.
    # NULL for rows stored before the column existed: rendered on the fly (manage.py render_message_bodies).
    shown_html = models.TextField(null=True, blank=True, editable=False)
    quoted_html = models.TextField(blank=True, default="", db_default="", editable=False)
    created_at = models.DateTimeField(_("time"), auto_now_add=True)
    # Email threading: our own or the sender's Message-ID, and what it replied to.
    message_id = models.CharField(max_length=998, blank=True, default="")
    in_reply_to = models.CharField(max_length=998, blank=True, default="")
    references = models.TextField(blank=True, default="")
    # Report figures of agent replies and notes (tickets.services.report_times): the department the ticket
    # was in when it was written (so transfers attribute correctly), and for a reply how long the customer
    # had waited for it (from the oldest unanswered customer message), wall-clock and business seconds.
    department = models.ForeignKey(
        "departments.Department",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,  # message_report_idx leads with it; a second index on the biggest table would only cost
    )
    response_seconds = models.PositiveIntegerField(null=True, blank=True)
    response_business_seconds = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["ticket", "created_at"], name="message_ticket_idx"),
            models.Index(fields=["message_id"], name="message_msgid_idx", condition=~Q(message_id="")),
            models.Index(fields=["author", "kind", "created_at"], name="message_author_idx"),
            models.Index(
                fields=["department", "created_at"],
                name="message_report_idx",
                include=["kind", "author", "ticket", "response_seconds", "response_business_seconds"],
                condition=Q(department__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on {self.ticket_id}"

    @property
    def is_public(self) -> bool:
        return self.kind in self.PUBLIC_KINDS


def attachment_path(instance: "Attachment", filename: str) -> str:
    # Content-addressed: identical files are stored once, and names from mail never reach the filesystem.
    h = instance.sha256
    return f"attachments/{h[:2]}/{h[2:4]}/{h}"


class Attachment(models.Model):
    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(upload_to=attachment_path, max_length=200)
    sha256 = models.CharField(max_length=64, db_index=True)
    filename = models.CharField(_("file name"), max_length=255)
    content_type = models.CharField(_("type"), max_length=100)
    size = models.PositiveBigIntegerField(_("size"))
    content_id = models.CharField(max_length=255, blank=True, default="", help_text=_("For inline cid: images"))
    is_inline = models.BooleanField(default=False)

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")

    def __str__(self) -> str:
        return self.filename

    @property
    def is_image(self) -> bool:
        return self.content_type in ("image/png", "image/gif", "image/jpeg")

    @staticmethod
    def hash_bytes(data: bytes) -> str:
        return hashlib.sha256(data).hexdigest()


class TicketEvent(models.Model):
    """Append-only audit trail: who changed what and when. Shown in the ticket's history."""

    class Kind(models.TextChoices):
        CREATED = "created", _("Created")
        STATUS = "status", _("Status changed")
        PRIORITY = "priority", _("Priority changed")
        ASSIGNED = "assigned", _("Assignment changed")
        TRANSFERRED = "transferred", _("Transferred")
        SUBJECT = "subject", _("Subject changed")
        PRODUCT = "product", _("Product changed")
        SPLIT = "split", _("Split")
        MERGED = "merged", _("Merged")
        UNMERGED = "unmerged", _("Merge undone")
        ESCALATED = "escalated", _("Escalated")
        SLA_WARNING = "sla_warning", _("SLA warning")
        REOPENED = "reopened", _("Reopened")
        PARTICIPANT = "participant", _("Participants changed")
        MAIL_HELD = "mail_held", _("Mail held for review")
        BOUNCE = "bounce", _("Delivery failure")
        AUTO_REPLY = "auto_reply", _("Automatic reply received")

    timeline_template = "tickets/_event.html"

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="events", db_index=False)  # event_ticket_idx
    kind = models.CharField(max_length=20, choices=Kind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("ticket event")
        verbose_name_plural = _("ticket events")
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["ticket", "created_at"], name="event_ticket_idx"),
            # Reports count breaches (escalations) and reopenings in a period.
            models.Index(
                fields=["kind", "created_at"],
                name="event_report_idx",
                condition=Q(kind__in=["escalated", "reopened", "status"]),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.ticket_id})"


class TicketLink(models.Model):
    class Kind(models.TextChoices):
        SPLIT = "split", _("Split from")
        MERGED = "merged", _("Merged into")
        FOLLOW_UP = "follow_up", _("Follow-up of")
        RELATED = "related", _("Related to")

    source = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="links_out")
    target = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="links_in")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["source", "target", "kind"], name="unique_ticket_link")]

    def __str__(self) -> str:
        return f"{self.source_id} {self.kind} {self.target_id}"


class Participant(models.Model):
    """Someone Cc'd on the conversation: receives agent replies, may reply into the ticket."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="participants")
    email = models.EmailField()
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("participant")
        verbose_name_plural = _("participants")
        constraints = [models.UniqueConstraint(fields=["ticket", "email"], name="unique_participant")]
        indexes = [models.Index(fields=["email"], name="participant_email_idx")]

    def __str__(self) -> str:
        return self.email


class Rating(models.Model):
    message = models.OneToOneField(Message, on_delete=models.CASCADE, related_name="rating")
    score = models.PositiveSmallIntegerField(_("score"))
    comment = models.TextField(_("comment"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # Copied from the rated reply (its Message.department and author) so reports count ratings per
    # department and agent from this table's own indexes, without joining the messages.
    department = models.ForeignKey(
        "departments.Department", on_delete=models.PROTECT, null=True, blank=True, related_name="+", db_index=False
    )
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+", db_index=False
    )

    class Meta:
        indexes = [
            models.Index(fields=["department", "created_at"], name="rating_report_idx", include=["agent", "score"]),
            models.Index(fields=["agent", "created_at"], name="rating_agent_idx", include=["department", "score"]),
        ]
        verbose_name = _("rating")
        verbose_name_plural = _("ratings")
        constraints = [models.CheckConstraint(condition=Q(score__gte=1, score__lte=5), name="rating_score_range")]

    def __str__(self) -> str:
        return f"{self.score}/5"


class CannedResponse(models.Model):
    """A reusable reply: shared by a department, or personal to one agent."""

    title = models.CharField(_("title"), max_length=150)
    body = models.TextField(
        _("text"),
        help_text=_("Placeholders: {customer_name}, {ticket_reference}, {agent_name}, {department}."),
    )
    department = models.ForeignKey(
        "departments.Department", on_delete=models.CASCADE, null=True, blank=True, related_name="canned_responses"
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, blank=True, related_name="canned_responses"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("canned response")
        verbose_name_plural = _("canned responses")
        ordering = ["title"]
        constraints = [
            models.CheckConstraint(
                condition=Q(department__isnull=False) | Q(owner__isnull=False), name="canned_has_scope"
            )
        ]

    def __str__(self) -> str:
        return self.title


class TicketNumberCounter(models.Model):
    """Ticket numbers on databases without sequences (SQLite); PostgreSQL uses a real sequence."""

    value = models.BigIntegerField()

    def __str__(self) -> str:
        return str(self.value)
