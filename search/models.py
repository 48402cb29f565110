from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from .query import TSVectorField


class SavedSearch(models.Model):
    """A workspace: an agent's named search (text and filters), shown in his sidebar with a live count.

    Personal by default; shared with one of the owner's departments it shows in every member's sidebar, and
    a manager of that department may make it one of the department's default workspaces (listed first).
    """

    name = models.CharField(_("name"), max_length=100)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_searches", verbose_name=_("owner")
    )
    # The search as its query parameters (q, department, status, ...), exactly what the search form sends.
    filters = models.JSONField(_("filters"), default=dict, blank=True)
    department = models.ForeignKey(
        "departments.Department",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="saved_searches",
        verbose_name=_("shared with department"),
    )
    is_default = models.BooleanField(_("department default"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("workspace")
        verbose_name_plural = _("workspaces")
        ordering = ["name", "pk"]
        indexes = [models.Index(fields=["department", "is_default"], name="savedsearch_dept_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(is_default=False) | Q(department__isnull=False), name="savedsearch_default_is_shared"
            )
        ]

    def __str__(self) -> str:
        return self.name


class TicketVector(models.Model):
    """A ticket's full-text vectors (search.sql: filled and kept current by PostgreSQL triggers; empty on
    SQLite, which searches by substring), with copies of the ticket columns the common searches filter
    and sort on, so that those are answered here and only the page's rows are read from the ticket table.

    Not columns of Ticket: every non-HOT ticket update would rewrite both GIN indexes (benchmarks/sla.md)."""

    # The foreign key (ON DELETE CASCADE) is search.sql.FOREIGN_KEY's; Django neither deletes these rows
    # nor selects them, the database does both.
    ticket = models.OneToOneField(
        "tickets.Ticket",
        primary_key=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="search_vector",
    )
    department_id = models.BigIntegerField()
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    active = models.BooleanField()  # status in tickets.choices.ACTIVE_STATUSES
    public = TSVectorField(null=True)
    notes = TSVectorField(null=True)

    class Meta:
        db_table = "search_ticketvector"
        default_permissions = ()

    def __str__(self) -> str:
        return f"vectors of ticket {self.ticket_id}"
