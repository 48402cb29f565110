"""Customer ratings of agent replies, aggregated for statistics (per agent, per department)."""

from datetime import datetime

from django.db.models import Avg, Count, Q, QuerySet

from .models import Rating


def ratings(
    *, department=None, since: datetime | None = None, until: datetime | None = None
) -> QuerySet[Rating]:
    qs = Rating.objects.all()
    if department is not None:
        qs = qs.filter(message__ticket__department=department)
    if since is not None:
        qs = qs.filter(created_at__gte=since)
    if until is not None:
        qs = qs.filter(created_at__lt=until)
    return qs


def rating_summary(**filters) -> dict:
    """{"count", "average", "positive"}: positive counts 4 and 5 stars; average is None without ratings."""
    return ratings(**filters).aggregate(
        count=Count("pk"), average=Avg("score"), positive=Count("pk", filter=Q(score__gte=4))
    )


def rating_by_agent(**filters) -> list[dict]:
    """One row per rated agent: author id and name fields, count, average, best first."""
    return list(
        ratings(**filters)
        .values("message__author", "message__author__display_name", "message__author__email")
        .annotate(count=Count("pk"), average=Avg("score"))
        .order_by("-average", "-count")
    )
