from django.db import models
from django.db.models import Q

from .choices import ACTIVE_STATUSES, Status


class TicketQuerySet(models.QuerySet):
    def active(self):
        return self.filter(status__in=ACTIVE_STATUSES)

    def for_department(self, department):
        return self.filter(department=department)

    def unassigned(self):
        return self.filter(assignee__isnull=True)

    def escalated(self):
        return self.active().filter(escalated_at__isnull=False)

    def recently_closed(self):
        return self.filter(status__in=(Status.RESOLVED, Status.CLOSED))

    def due_before(self, when):
        return self.active().filter(
            Q(first_response_due_at__lte=when) | Q(next_response_due_at__lte=when) | Q(resolution_due_at__lte=when)
        )
