"""Service-level configuration per department. The per-ticket clock state lives on the Ticket row itself
(due times, sla_check_at ...); the sweep finds due tickets through Clock, a copy of sla_check_at kept by
triggers (sla.sql)."""

import zoneinfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from tickets.choices import Priority

from .business_hours import format_intervals


class SlaPolicy(models.Model):
    """Targets for the tickets of a department with one priority (or any priority without its own policy)."""

    department = models.ForeignKey(
        "departments.Department", on_delete=models.CASCADE, related_name="sla_policies", verbose_name=_("department")
    )
    priority = models.PositiveSmallIntegerField(
        _("priority"), choices=Priority.choices, null=True, blank=True, help_text=_("Empty: any other priority.")
    )
    first_response_minutes = models.PositiveIntegerField(_("first response within (minutes)"), null=True, blank=True)
    next_response_minutes = models.PositiveIntegerField(
        _("next response within (minutes)"),
        null=True,
        blank=True,
        help_text=_("Counted from each customer message that waits for an answer."),
    )
    resolution_minutes = models.PositiveIntegerField(
        _("resolution within (minutes)"),
        null=True,
        blank=True,
        help_text=_("The clock stops while the ticket waits for the customer."),
    )
    business_hours = models.BooleanField(
        _("count business hours only"),
        default=True,
        help_text=_("Uses the department's business hours and holidays; without them, calendar time."),
    )
    warning_percent = models.PositiveSmallIntegerField(
        _("warn at (percent of the target)"),
        default=80,
        validators=[MinValueValidator(1), MaxValueValidator(99)],
    )

    class Meta:
        verbose_name = _("SLA policy")
        verbose_name_plural = _("SLA policies")
        ordering = ["department", "priority"]
        constraints = [
            models.UniqueConstraint(
                fields=["department", "priority"], name="sla_one_policy_per_priority", nulls_distinct=False
            ),
            models.CheckConstraint(
                condition=Q(warning_percent__gte=1, warning_percent__lte=99), name="sla_warning_percent_range"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.department}: {self.get_priority_display() or _('any priority')}"


def validate_time_zone(value: str) -> None:
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise ValidationError(_("Unknown time zone."), code="time_zone") from exc


class BusinessHours(models.Model):
    """When the department works. `schedule` maps a weekday ("0" = Monday) to opening intervals in
    minutes after local midnight, e.g. {"0": [[540, 1080]]} for Monday 09:00-18:00."""

    department = models.OneToOneField(
        "departments.Department",
        on_delete=models.CASCADE,
        related_name="business_hours",
        verbose_name=_("department"),
    )
    time_zone = models.CharField(_("time zone"), max_length=64, validators=[validate_time_zone])
    schedule = models.JSONField(_("weekly schedule"), default=dict, blank=True)

    class Meta:
        verbose_name = _("business hours")
        verbose_name_plural = _("business hours")

    def __str__(self) -> str:
        return f"{self.department} ({self.time_zone})"

    def intervals(self, weekday: int) -> tuple[tuple[int, int], ...]:
        return tuple(tuple(i) for i in self.schedule.get(str(weekday), ()))

    def day_text(self, weekday: int) -> str:
        return format_intervals(self.intervals(weekday))


class Holiday(models.Model):
    """A closed day (in the business hours' time zone): of one department, or of all (department empty)."""

    date = models.DateField(_("date"))
    name = models.CharField(_("name"), max_length=100, blank=True)
    department = models.ForeignKey(
        "departments.Department",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="holidays",
        verbose_name=_("department"),
        help_text=_("Empty: a holiday of every department."),
    )

    class Meta:
        verbose_name = _("holiday")
        verbose_name_plural = _("holidays")
        ordering = ["date"]
        constraints = [
            models.UniqueConstraint(fields=["department", "date"], name="sla_one_holiday_per_day", nulls_distinct=False)
        ]

    def __str__(self) -> str:
        return f"{self.date} {self.name}"


class EscalationLevel(models.Model):
    """Who is told, and when, once a ticket has breached a target. Without any level a department escalates
    to its managers at the moment of breach (level 1)."""

    department = models.ForeignKey(
        "departments.Department",
        on_delete=models.CASCADE,
        related_name="escalation_levels",
        verbose_name=_("department"),
    )
    level = models.PositiveSmallIntegerField(_("level"), validators=[MinValueValidator(1)])
    after_minutes = models.PositiveIntegerField(
        _("minutes after the breach"), default=0, help_text=_("0: at the moment the target is missed.")
    )
    notify_managers = models.BooleanField(_("notify the department's managers"), default=True)
    users = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="+", verbose_name=_("also notify these users")
    )
    emails = models.TextField(
        _("also notify these addresses"), blank=True, help_text=_("One address per line or separated by commas.")
    )

    class Meta:
        verbose_name = _("escalation level")
        verbose_name_plural = _("escalation levels")
        ordering = ["department", "level"]
        constraints = [models.UniqueConstraint(fields=["department", "level"], name="sla_one_escalation_per_level")]

    def __str__(self) -> str:
        return f"{self.department}: {self.level}"

    def email_list(self) -> list[str]:
        return [e.strip() for e in self.emails.replace(",", "\n").splitlines() if e.strip()]


class Notice(models.Model):
    """Outbox of SLA mail. The sweep writes one row per warning or escalation in the transaction that records
    it on the ticket, so the notice exists exactly when the ticket state says it happened. After commit,
    sla.tasks.notify turns it into OutboundEmail rows (one per recipient, rendered in the recipient's
    language) and sets queued_at in the same transaction; rows a killed worker left with queued_at empty
    are picked up by the beat task sla.tasks.notify_pending. Rendering happens there, not in the sweep:
    it is the slow part and must not hold the tickets' row locks."""

    class Kind(models.TextChoices):
        WARNING = "warning", _("SLA warning")
        ESCALATION = "escalation", _("Escalation")

    ticket = models.ForeignKey("tickets.Ticket", on_delete=models.CASCADE, related_name="+")
    event = models.OneToOneField("tickets.TicketEvent", on_delete=models.CASCADE, related_name="sla_notice")
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    target = models.CharField(_("Target"), max_length=20)
    due = models.DateTimeField(_("Due"))
    level = models.PositiveSmallIntegerField(_("level"), default=0)
    # Escalation: whom the level named when it was reached: {"managers": bool, "users": [id], "emails": [..]}.
    recipients = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(_("created"))  # the sweep's clock: the mail counts waiting up to it
    queued_at = models.DateTimeField(_("sent"), null=True, blank=True)  # its mail is in the outbox
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True, default="")

    class Meta:
        verbose_name = _("SLA notice")
        verbose_name_plural = _("SLA notices")
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["created_at"], name="sla_notice_pending_idx", condition=Q(queued_at__isnull=True))
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.ticket_id} ({self.target})"


class Clock(models.Model):
    """A running clock's next check, copied from Ticket.sla_check_at by PostgreSQL triggers (sla.sql): the
    sweep's index, kept off the ticket table so that the sweep's ticket UPDATE is HOT. Empty on SQLite,
    where the sweep reads the ticket column."""

    # The foreign key (ON DELETE CASCADE) is sla.sql.FOREIGN_KEY's: Django neither deletes nor joins these rows.
    ticket = models.OneToOneField(
        "tickets.Ticket", primary_key=True, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    check_at = models.DateTimeField()

    class Meta:
        db_table = "sla_clock"
        default_permissions = ()
        indexes = [models.Index(fields=["check_at"], name="sla_clock_check_idx")]

    def __str__(self) -> str:
        return f"clock of ticket {self.ticket_id}"
