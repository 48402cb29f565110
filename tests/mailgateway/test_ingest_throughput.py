"""Ingestion cost per message (pinned query counts) and batch processing (several mails per transaction).

The throughput itself is measured by benchmarks/ingest.py (`make bench`), never timed here. These tests pin
what makes it: how many SQL statements one mail costs, and that a batch processed in one transaction gives
exactly the results of processing the mails one by one, failures included.
"""

import pytest
from django.db import connection

from mailgateway import services, tasks
from mailgateway.models import InboundEmail, OutboundEmail
from tests.factories import make_ticket
from tickets import services as ticket_services
from tickets.models import Message, Ticket, TicketEvent

from .mails import bounce_for, mail

pytestmark = pytest.mark.django_db

# In tests the processing transaction is a savepoint inside the test's transaction, so these counts are
# what production issues (BEGIN/COMMIT there, SAVEPOINT/RELEASE here). They include storing (1) and the
# per-transaction part (8: begin, settings, claim, our addresses, inbound addresses, SLA policy, result
# UPDATE, commit). A new ticket from a new customer is then 6 statements of its own: customer lookup and
# insert, ticket (numbered by the sequence and with its SLA clocks in the same INSERT), message, event,
# acknowledgement in the outbox.
PER_TRANSACTION = 9  # incl. reading the webhook endpoints once per batch
NEW_TICKET_NEW_CUSTOMER = 16
NEW_TICKET_KNOWN_CUSTOMER = 15
REPLY = 13


@pytest.fixture
def postgres():
    """Statement counts are PostgreSQL's (SQLite numbers tickets with a counter row, and so on)."""
    if connection.vendor != "postgresql":
        pytest.skip("statement counts are pinned for PostgreSQL")


def _store(raw: bytes) -> InboundEmail:
    row, created = services.store_raw(raw, source="pipe")
    assert created
    return row


def _warm(world) -> None:
    """One mail first, so per-process one-time reads (content types, templates) are not counted."""
    services.process_inbound(_store(mail(sender="warm@example.org", subject="warm up")).pk)


def test_queries_for_a_new_ticket_from_a_new_customer(world, postgres, django_assert_num_queries):
    _warm(world)
    with django_assert_num_queries(NEW_TICKET_NEW_CUSTOMER):
        row = services.process_inbound(_store(mail(sender="first.time@example.org", subject="VPN down")).pk)
    assert row.action == "created"
    assert OutboundEmail.objects.filter(ticket=row.ticket, kind="ticket_created").count() == 1


def test_queries_for_a_new_ticket_from_a_known_customer(world, postgres, django_assert_num_queries):
    _warm(world)
    with django_assert_num_queries(NEW_TICKET_KNOWN_CUSTOMER):
        row = services.process_inbound(_store(mail(subject="Printer again")).pk)
    assert row.action == "created" and row.ticket.customer == world.customer


def test_queries_for_a_reply_by_subject_tag(world, postgres, django_assert_num_queries):
    ticket = make_ticket(world.customer, world.technical, subject="Printer")
    _warm(world)
    with django_assert_num_queries(REPLY):
        row = services.process_inbound(_store(mail(subject=f"Re: [#{ticket.number}] Printer")).pk)
    assert (row.action, row.ticket_id) == ("appended", ticket.pk)


def test_a_batch_costs_fewer_statements_per_mail_than_single_transactions(
    world, postgres, django_assert_max_num_queries
):
    _warm(world)
    rows = [_store(mail(sender=f"c{i}@example.org", subject=f"Batch {i}")) for i in range(10)]
    # The per-transaction part once (plus one claim query for the other waiting mails), not ten times:
    # at most 70 statements instead of 10 * 15.
    with django_assert_max_num_queries(
        10 * (NEW_TICKET_NEW_CUSTOMER - 1 - PER_TRANSACTION) + PER_TRANSACTION + 1
    ):
        done = services.process_batch(first_id=rows[0].pk, limit=10)
    assert {r.action for r in done} == {"created"} and Ticket.objects.count() == 11


def test_mixed_batch_gives_the_same_results_as_one_by_one(world):
    old = make_ticket(world.customer, world.technical, subject="Old printer")
    sent = ticket_services.ticket_reply(
        ticket=old, author=world.tech_agent, body_text="Try turning it off and on"
    )
    ours = OutboundEmail.objects.get(message=sent)
    first = mail(sender="new.one@example.org", subject="New request", message_id="<new-1@example.org>")
    raws = {
        "new": first,
        "reply_to_new": mail(
            sender="new.one@example.org", subject="Re: New request", in_reply_to="<new-1@example.org>"
        ),
        "reply_by_tag": mail(subject=f"Re: [#{old.number}] Old printer", body="Still broken"),
        "stranger": mail(sender="stranger@example.org", subject=f"Re: [#{old.number}] Old printer"),
        "bounce": bounce_for(ours.message_id_header, ours.subject),
        "autoreply": mail(subject="Out of office", headers={"Auto-Submitted": "auto-replied"}),
        "no_sender": mail(sender="undisclosed-recipients:;", subject="Broken sender"),
    }
    rows = {name: _store(raw) for name, raw in raws.items()}
    again, created = services.store_raw(first, source="imap:1")  # the same mail delivered twice
    assert not created and again.pk == rows["new"].pk

    done = services.process_batch(first_id=rows["new"].pk, limit=20)

    assert len(done) == len(raws)
    result = {name: InboundEmail.objects.get(pk=row.pk) for name, row in rows.items()}
    new_ticket = Ticket.objects.get(subject="New request")
    assert (result["new"].action, result["new"].ticket) == ("created", new_ticket)
    assert result["new"].message == new_ticket.messages.get(message_id="new-1@example.org")
    assert (result["reply_to_new"].action, result["reply_to_new"].ticket) == ("appended", new_ticket)
    assert (result["reply_by_tag"].action, result["reply_by_tag"].ticket) == ("appended", old)
    assert (result["stranger"].status, result["stranger"].ticket) == ("held", old)
    assert (result["bounce"].action, result["bounce"].ticket) == ("bounce", old)
    assert result["autoreply"].action == "ignored_autoreply"
    assert result["no_sender"].status == "quarantined" and "sender" in result["no_sender"].error
    assert all(r.attempts == 1 and r.processed_at for r in result.values())
    assert (
        result["new"].department == world.technical and result["reply_by_tag"].department == world.technical
    )
    assert Ticket.objects.count() == 2  # the duplicate and the replies made no ticket
    assert list(new_ticket.messages.values_list("kind", flat=True)) == ["customer", "customer"]
    assert old.messages.filter(body_text__startswith="Still broken").exists()
    assert OutboundEmail.objects.get(pk=ours.pk).status == "bounced"
    assert TicketEvent.objects.filter(ticket=old, kind=TicketEvent.Kind.MAIL_HELD).count() == 1
    # Nothing is processed twice: a second batch finds nothing waiting.
    assert services.process_batch(limit=20) == []


def test_a_failing_mail_is_quarantined_without_undoing_the_rest_of_its_batch(world, monkeypatch):
    real_create = ticket_services.ticket_create

    def create_then_fail(**kwargs):
        ticket = real_create(**kwargs)  # rows written, then rolled back with the mail's savepoint
        if kwargs["subject"] == "boom":
            raise RuntimeError("disk on fire")
        return ticket

    monkeypatch.setattr(ticket_services, "ticket_create", create_then_fail)
    rows = [
        _store(mail(sender="before@example.org", subject="before")),
        _store(mail(sender="fresh@example.org", subject="boom")),
        _store(mail(sender="fresh@example.org", subject="after, same new sender")),
    ]
    services.process_batch(first_id=rows[0].pk, limit=10)
    states = [InboundEmail.objects.get(pk=r.pk) for r in rows]
    assert [s.status for s in states] == ["processed", "quarantined", "processed"]
    assert "disk on fire" in states[1].error and states[1].ticket is None
    assert sorted(Ticket.objects.values_list("subject", flat=True)) == ["after, same new sender", "before"]
    assert Ticket.objects.get(subject="after, same new sender").customer.email == "fresh@example.org"
    # The raw bytes stay for a retry after the fix.
    monkeypatch.setattr(ticket_services, "ticket_create", real_create)
    assert services.retry_quarantined(rows[1].pk).action == "created"


def test_task_processes_its_own_mail_and_the_others_waiting(world, settings, monkeypatch):
    settings.HELPDESK_INBOUND_BATCH = 3
    rows = [_store(mail(sender=f"w{i}@example.org", subject=f"Waiting {i}")) for i in range(4)]
    processed_by_first = []
    real_batch = services.process_batch

    def spy(**kwargs):
        rows_done = real_batch(**kwargs)
        processed_by_first.append([r.pk for r in rows_done])
        return rows_done

    monkeypatch.setattr(services, "process_batch", spy)
    assert tasks.process_inbound_email(rows[3].pk) == "3 processed"
    # Its own first, then the oldest waiting; the one left is taken by the follow-up task (eager here).
    assert processed_by_first == [[rows[3].pk, rows[0].pk, rows[1].pk], [rows[2].pk]]
    assert all(InboundEmail.objects.get(pk=r.pk).status == "processed" for r in rows)
    assert tasks.process_inbound_email(rows[0].pk) == "skipped"  # a redelivered task: nothing left
    assert Ticket.objects.count() == 4 and Message.objects.count() == 4


def test_known_customer_is_found_case_insensitively(world):
    row = services.process_inbound(_store(mail(sender="Ivan@Customer.Example", subject="Caps")).pk)
    assert row.ticket.customer == world.customer


def test_a_deadlocked_mail_stays_waiting_for_a_retry_instead_of_quarantine(world, monkeypatch):
    import psycopg
    from django.db import OperationalError

    real_create = ticket_services.ticket_create

    def deadlock(**kwargs):
        if kwargs["subject"] == "unlucky":
            raise OperationalError("deadlock detected") from psycopg.errors.DeadlockDetected()
        return real_create(**kwargs)

    monkeypatch.setattr(ticket_services, "ticket_create", deadlock)
    rows = [_store(mail(sender="a@example.org", subject="unlucky")), _store(mail(sender="b@example.org"))]
    services.process_batch(first_id=rows[0].pk, limit=10)
    unlucky, other = (InboundEmail.objects.get(pk=r.pk) for r in rows)
    assert (unlucky.status, unlucky.attempts, other.status) == ("received", 1, "processed")
    monkeypatch.setattr(ticket_services, "ticket_create", real_create)
    assert services.process_batch(limit=10)[0].action == "created"  # the next task takes it
