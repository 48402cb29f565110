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
def process_inbound_email(inbound_id: int | None) -> str:
    """Processes its own message (None: none) together with up to HELPDESK_INBOUND_BATCH - 1 others
    waiting, oldest first, in one transaction. Idempotent: a redelivered task (or the task of a message
    another batch took) finds its row processed and only takes what is still waiting, if anything.

    A chunk of IMAP mail queues one task per batch of new rows (services.receive_many): when older mail
    waiting took part of a batch, what it left is taken by a follow-up task, queued while anything
    still waits, instead of by the sweep minutes later."""
    rows = services.process_batch(first_id=inbound_id)
    if rows and services.mail_waiting():
        process_inbound_email.delay(None)
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
