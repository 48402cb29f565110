"""Celery beat entry point; the work is in services.sweep."""

from celery import shared_task

from . import services


@shared_task(ignore_result=True)
def sweep() -> int:
    """Beat, every minute: warnings and escalations that are due. Overlapping runs are safe (SKIP LOCKED)."""
    return services.sweep()


@shared_task(acks_late=True, ignore_result=True)
def recompute_department(department_id: int) -> int:
    return services.recompute_department(department_id)
