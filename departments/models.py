from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from tickets.choices import Priority


class FormKind(models.TextChoices):
    """Which structured fields the customer's new-ticket form asks for."""

    GENERIC = "generic", _("Generic")
    TECHNICAL = "technical", _("Technical support")
    SALES = "sales", _("Sales and billing")


class DepartmentQuerySet(models.QuerySet):
    def active(self):
        return self.filter(is_active=True)


class Department(models.Model):
    name = models.CharField(_("name"), max_length=100)
    slug = models.SlugField(_("slug"), unique=True)
    description = models.CharField(
        _("description for customers"), max_length=255, blank=True, help_text=_("Shown in the new-ticket form.")
    )
    from_email = models.EmailField(
        _("outgoing From address"), help_text=_("Replies to customers are sent from this address.")
    )
    signature = models.TextField(_("reply signature"), blank=True, help_text=_("Appended to every reply."))
    default_priority = models.PositiveSmallIntegerField(
        _("default priority"), choices=Priority.choices, default=Priority.NORMAL
    )
    form_kind = models.CharField(_("new-ticket form"), max_length=20, choices=FormKind.choices, default=FormKind.GENERIC)
    customer_selectable = models.BooleanField(
        _("customers can choose it"), default=True, help_text=_("Offered as a category in the new-ticket form.")
    )
    is_triage = models.BooleanField(
        _("triage department"),
        default=False,
        help_text=_("Receives mail that matches no address and tickets whose customer left the routing to staff."),
    )
    send_acknowledgement = models.BooleanField(_("acknowledge new tickets by email"), default=True)
    send_status_notifications = models.BooleanField(_("notify customers of status changes"), default=True)
    is_active = models.BooleanField(_("active"), default=True)
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    objects = DepartmentQuerySet.as_manager()

    class Meta:
        verbose_name = _("department")
        verbose_name_plural = _("departments")
        ordering = ["position", "name"]
        constraints = [
            models.UniqueConstraint(fields=["is_triage"], condition=Q(is_triage=True), name="one_triage_department")
        ]

    def __str__(self) -> str:
        return self.name

    def signature_for(self, language: str) -> str:
        """The signature in `language` if the department wrote one, else the default signature."""
        if language:
            for sig in self.signatures.all():  # uses a prefetch when the caller made one
                if sig.language == language:
                    return sig.text
        return self.signature


class DepartmentSignature(models.Model):
    """The reply signature in one language; mail to a customer uses the one in the customer's language."""

    department = models.ForeignKey(Department, on_delete=models.CASCADE, related_name="signatures")
    language = models.CharField(_("language"), max_length=10, choices=settings.LANGUAGES)
    text = models.TextField(_("signature"))

    class Meta:
        verbose_name = _("signature in a language")
        verbose_name_plural = _("signatures in other languages")
        constraints = [models.UniqueConstraint(fields=["department", "language"], name="one_signature_per_language")]

    def __str__(self) -> str:
        return f"{self.department} ({self.get_language_display()})"


class DepartmentAddress(models.Model):
    """An inbound address (support@, sales@) whose mail becomes tickets of the department."""

    department = models.ForeignKey(Department, on_delete=models.CASCADE, related_name="addresses")
    email = models.EmailField(_("address"), unique=True)

    class Meta:
        verbose_name = _("inbound address")
        verbose_name_plural = _("inbound addresses")

    def __str__(self) -> str:
        return self.email

    def save(self, *args, **kwargs):
        self.email = self.email.strip().lower()  # matching is case-insensitive; store one form
        super().save(*args, **kwargs)


class Membership(models.Model):
    class Role(models.TextChoices):
        AGENT = "agent", _("Agent")
        MANAGER = "manager", _("Manager")

    department = models.ForeignKey(Department, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(_("role"), max_length=10, choices=Role.choices, default=Role.AGENT)

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [models.UniqueConstraint(fields=["department", "user"], name="one_membership_per_department")]

    def __str__(self) -> str:
        return f"{self.user} @ {self.department} ({self.get_role_display()})"


class RoutingRule(models.Model):
    """Optional rule that sends inbound mail to a department when no inbound address matched."""

    class Kind(models.TextChoices):
        SENDER_DOMAIN = "sender_domain", _("Sender domain is")
        SUBJECT_KEYWORD = "subject_keyword", _("Subject contains")

    department = models.ForeignKey(Department, on_delete=models.CASCADE, related_name="routing_rules")
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    value = models.CharField(_("value"), max_length=255)
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("routing rule")
        verbose_name_plural = _("routing rules")
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.value} → {self.department}"
