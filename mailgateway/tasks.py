"""Celery tasks: thin wrappers, the work is in outbound.py, services.py and imap.py."""

from celery import shared_task

from . import imap, outbound, services


@shared_task(acks_late=True, ignore_result=True)
def send_outbound_email(email_id: int) -> str:
    return outbound.send_now(email_id)


@shared_task(ignore_result=True)
def retry_due_outbound_emails() -> int:
    """Beat: resend rows whose backoff has passed. Countdown ETAs are lost on restart; the rows are not."""
    ids = outbound.due_email_ids()
    for email_id in ids:
        outbound.send_now(email_id)
    return len(ids)


@shared_task(acks_late=True, ignore_result=True)
def process_inbound_email(inbound_id: int) -> str:
    """Processes its own message together with up to HELPDESK_INBOUND_BATCH - 1 others waiting, in one
    transaction. Idempotent: a redelivered task (or the task of a message another batch took) finds
    its row processed and only takes what is still waiting, if anything."""
    rows = services.process_batch(first_id=inbound_id)
    return f"{len(rows)} processed" if rows else "skipped"


@shared_task(ignore_result=True)
def process_pending_inbound() -> int:
    """Beat: process rows left `received` (worker killed between storing and processing)."""
    ids = services.pending_inbound_ids()
    for inbound_id in ids:
        services.process_inbound(inbound_id)
    return len(ids)


@shared_task(ignore_result=True)
def poll_mailboxes() -> int:
    """Beat: one task per mailbox, so a slow or failing server never delays the others."""
    ids = imap.active_mailbox_ids()
    for mailbox_id in ids:
        poll_mailbox.delay(mailbox_id)
    return len(ids)


@shared_task(ignore_result=True)
def poll_mailbox(mailbox_id: int) -> str:
    return imap.poll(mailbox_id)
