"""Celery entry points; the work is in services.sweep and notifications.send_notices."""

from celery import shared_task

from . import notifications, services


@shared_task(ignore_result=True)
def sweep() -> int:
    """Beat, every minute: warnings and escalations that are due. Overlapping runs are safe (SKIP LOCKED)."""
    return services.sweep()


@shared_task(acks_late=True, ignore_result=True)
def notify(notice_ids: list[int]) -> int:
    """After the sweep's commit: render and queue the mail of these notices. A redelivered task finds
    them queued (or locked) and does nothing."""
    return notifications.send_notices(notice_ids)


@shared_task(ignore_result=True)
def notify_pending() -> int:
    """Beat safety net: notices left unqueued (worker killed after the sweep committed, render failed)."""
    ids = notifications.pending_notice_ids()
    for start in range(0, len(ids), 100):
        notifications.send_notices(ids[start : start + 100])
    return len(ids)


@shared_task(acks_late=True, ignore_result=True)
def recompute_department(department_id: int) -> int:
    return services.recompute_department(department_id)
