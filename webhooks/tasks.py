"""Celery tasks: thin wrappers around delivery.py."""

from celery import shared_task

from . import delivery


@shared_task(acks_late=True, ignore_result=True)
def deliver(delivery_id: int) -> str:
    return delivery.deliver_now(delivery_id)


@shared_task(ignore_result=True)
def retry_due_deliveries() -> int:
    """Beat: deliveries whose backoff has passed. The rows are the queue; countdowns would be lost on restart."""
    ids = delivery.due_delivery_ids()
    for delivery_id in ids:
        delivery.deliver_now(delivery_id)
    return len(ids)
