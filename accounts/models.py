from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def _create(self, email: str, password: str | None, **extra) -> "User":
        if not email:
            raise ValueError("An email address is required")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra) -> "User":
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create(email, password, **extra)

    def create_superuser(self, email: str, password: str | None = None, **extra) -> "User":
        extra.update(is_staff=True, is_superuser=True, is_agent=True)
        return self._create(email, password, **extra)

    def get_by_natural_key(self, username: str) -> "User":
        return self.get(email__iexact=username)


class User(AbstractBaseUser, PermissionsMixin):
    """A person: a customer, an agent (staff of one or more departments), or an admin.

    Departed staff are deactivated, never deleted, so their replies stay attributed to them.
    Manager rights are per department (departments.Membership.role); admin is is_superuser.
    """

    email = models.EmailField(_("email address"), unique=True)
    display_name = models.CharField(_("display name"), max_length=150, blank=True)
    language = models.CharField(
        _("preferred language"), max_length=10, choices=settings.LANGUAGES, blank=True, default=""
    )
    time_zone = models.CharField(_("time zone"), max_length=64, blank=True, default="")
    is_agent = models.BooleanField(
        _("agent"), default=False, help_text=_("Helpdesk staff: works tickets of the departments they belong to.")
    )
    is_staff = models.BooleanField(_("admin site access"), default=False)
    is_active = models.BooleanField(
        _("active"), default=True, help_text=_("Unset instead of deleting: departed staff keep their history.")
    )
    date_joined = models.DateTimeField(_("date joined"), default=timezone.now)
    # Set when the person proved the address (registration link or a set-password link sent there).
    email_verified_at = models.DateTimeField(_("email verified"), null=True, blank=True)
    # Mixed into the secret feed URL token (tickets.feeds.feed_token): regenerating it revokes old feed URLs.
    # db_default keeps raw INSERTs (generate_dataset) valid.
    feed_key = models.CharField(_("feed key"), max_length=64, blank=True, default="", db_default="")

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        constraints = [models.UniqueConstraint(Lower("email"), name="user_email_ci_unique")]

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        return self.display_name or self.email.split("@", 1)[0]

    def get_full_name(self) -> str:
        return self.name

    def get_short_name(self) -> str:
        return self.name


class TicketReadMark(models.Model):
    """When a user last looked at a ticket: agent replies newer than this are shown as unread."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="read_marks")
    ticket = models.ForeignKey("tickets.Ticket", on_delete=models.CASCADE, related_name="read_marks")
    seen_at = models.DateTimeField(_("seen"))

    class Meta:
        verbose_name = _("ticket read mark")
        verbose_name_plural = _("ticket read marks")
        constraints = [models.UniqueConstraint(fields=["user", "ticket"], name="one_read_mark_per_user_ticket")]

    def __str__(self) -> str:
        return f"{self.user_id} saw {self.ticket_id} at {self.seen_at:%Y-%m-%d %H:%M}"
