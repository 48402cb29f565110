"""Batches of two or more mails on PostgreSQL are written pipelined (rowsql.pipelined): the INSERTs are
sent without waiting for their results, with keys reserved up front. These tests pin what a user of the
gateway must still get: the same tickets, numbers in mail order, acknowledgements, and, when PostgreSQL
refuses a statement whose error only surfaces later, only that mail quarantined."""

import pytest
from django.db import connection

from accounts.models import User
from mailgateway import services
from mailgateway.models import InboundEmail, OutboundEmail
from tests.factories import make_ticket
from tickets.models import Message, Ticket, TicketEvent

from .mails import mail

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def postgres():
    if connection.vendor != "postgresql":
        pytest.skip("pipeline mode is PostgreSQL's")


def _store(raw: bytes) -> InboundEmail:
    row, created = services.store_raw(raw, source="pipe")
    assert created
    return row


def _warm() -> None:
    """A pipelined batch first: per-process one-time reads (the key sequences' names) are not counted."""
    first = _store(mail(sender="warm1@example.org", subject="warm"))
    _store(mail(sender="warm2@example.org", subject="warm"))
    services.process_batch(first_id=first.pk, limit=2)


def _process(rows: list[InboundEmail]) -> dict[int, InboundEmail]:
    done = services.process_batch(first_id=rows[0].pk, limit=len(rows))
    assert len(done) == len(rows)
    return {row.pk: InboundEmail.objects.get(pk=row.pk) for row in rows}


def test_a_batch_of_new_tickets_is_numbered_in_mail_order_and_acknowledged(world):
    senders = [f"p{i}@example.org" for i in range(5)]
    rows = [_store(mail(sender=s, subject=f"Pipelined {i}")) for i, s in enumerate(senders)]
    result = _process(rows)
    tickets = [result[row.pk].ticket for row in rows]
    assert [t.subject for t in tickets] == [f"Pipelined {i}" for i in range(5)]
    numbers = [t.number for t in tickets]
    assert numbers == list(range(numbers[0], numbers[0] + 5))  # consecutive: no number reserved in vain
    for ticket, sender in zip(tickets, senders, strict=True):
        assert ticket.customer.email == sender
        assert ticket.messages.get().body_text.startswith("Hello, the printer")
        assert TicketEvent.objects.filter(ticket=ticket, kind=TicketEvent.Kind.CREATED).count() == 1
        ack = OutboundEmail.objects.get(ticket=ticket, kind="ticket_created")
        assert ack.to == [sender] and f"t{ticket.number}" in ack.message_id_header
    # The result rows point at what was written (keys were reserved, not returned).
    assert all(result[row.pk].message == result[row.pk].ticket.messages.get() for row in rows)


def test_replies_and_new_tickets_in_one_batch(world):
    old = make_ticket(world.customer, world.technical, subject="Old printer")
    rows = [
        _store(mail(sender="n1@example.org", subject="First new")),
        _store(mail(subject=f"Re: [#{old.number}] Old printer", body="Still broken")),
        _store(mail(sender="n1@example.org", subject="Second new from the same sender")),
    ]
    result = _process(rows)
    assert [result[r.pk].action for r in rows] == ["created", "appended", "created"]
    assert result[rows[1].pk].ticket == old
    assert old.messages.filter(body_text__startswith="Still broken").exists()
    first, second = result[rows[0].pk].ticket, result[rows[2].pk].ticket
    assert first.customer == second.customer  # one account for the new sender, created once
    assert User.objects.filter(email="n1@example.org").count() == 1
    assert second.number == first.number + 1


def test_the_ack_limit_counts_tickets_opened_earlier_in_the_same_batch(world, settings):
    settings.HELPDESK_ACK_PER_HOUR = 2
    rows = [_store(mail(sender="flood@example.org", subject=f"Flood {i}")) for i in range(4)]
    result = _process(rows)
    assert {r.action for r in result.values()} == {"created"}
    assert OutboundEmail.objects.filter(kind="ticket_created", to=["flood@example.org"]).count() == 2


def test_an_error_postgresql_reports_late_quarantines_only_its_mail(world):
    """A statement refused by the database fails at the next wait, not where it was sent: the batch is
    redone mail by mail and only the mail whose ticket the database refused is quarantined."""
    with connection.cursor() as cursor:
        cursor.execute(
            """CREATE FUNCTION test_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
               BEGIN IF NEW.subject = 'refused' THEN RAISE EXCEPTION 'refused by the database'; END IF;
               RETURN NEW; END $$;
               CREATE TRIGGER test_refuse BEFORE INSERT ON tickets_ticket
               FOR EACH ROW EXECUTE FUNCTION test_refuse();"""
        )
    rows = [
        _store(mail(sender="a@example.org", subject="fine before")),
        _store(mail(sender="b@example.org", subject="refused")),
        _store(mail(sender="c@example.org", subject="fine after")),
    ]
    result = _process(rows)
    assert [result[r.pk].status for r in rows] == ["processed", "quarantined", "processed"]
    assert "refused by the database" in result[rows[1].pk].error
    assert sorted(Ticket.objects.values_list("subject", flat=True)) == ["fine after", "fine before"]
    assert Message.objects.count() == 2


def test_an_account_created_by_another_worker_meanwhile(world, monkeypatch):
    """The batch read no account for the sender; another worker creates it before this batch inserts
    one. The pipelined insert of the account does nothing, the ticket's foreign key fails, and the batch
    is redone carefully: both mails become tickets, the sender has one account. (Here the "other
    worker" writes inside the test's transaction, so the redo's rollback takes its account away too.)"""
    real_read = services._read_customers

    def read_then_race(senders):
        real_read(senders)
        User.objects.create(email="racer@example.org", display_name="Created elsewhere")

    monkeypatch.setattr(services, "_read_customers", read_then_race)
    rows = [
        _store(mail(sender="racer@example.org", subject="Race")),
        _store(mail(sender="calm@example.org", subject="Calm")),
    ]
    result = _process(rows)
    assert [result[r.pk].action for r in rows] == ["created", "created"]
    assert result[rows[0].pk].ticket.customer.email == "racer@example.org"
    assert User.objects.filter(email="racer@example.org").count() == 1
    assert Ticket.objects.count() == 2


def test_statements_of_a_pipelined_batch(world, django_assert_num_queries):
    """Per mail only its own INSERTs: ticket, message, event, acknowledgement. Per batch: the claim, the
    accounts of all senders, the key reservation, the configuration reads and the result UPDATE."""
    _warm()
    senders = [f"k{i}@example.org" for i in range(6)]
    for s in senders:
        User.objects.create(email=s)
    rows = [_store(mail(sender=s, subject=f"Known {s}")) for s in senders]
    # savepoint, settings, 2 claims, accounts, reservation, our addresses, inbound addresses, SLA policy,
    # webhook endpoints, result UPDATE, release
    per_batch = 12
    with django_assert_num_queries(per_batch + 4 * len(rows)):
        done = services.process_batch(first_id=rows[0].pk, limit=len(rows))
    assert [r.action for r in done] == ["created"] * len(rows)


def test_two_replies_to_one_closed_ticket_in_one_batch(world):
    """The batch locks the tickets its replies name up front; the second reply sees what the first did."""
    from tickets import services as ticket_services
    from tickets.tokens import reply_address

    ticket = make_ticket(world.customer, world.technical, subject="Router")
    ticket_services.ticket_close(ticket=ticket, actor=world.tech_agent)
    rows = [
        _store(mail(subject=f"Re: [#{ticket.number}] Router", body="It broke again")),
        _store(mail(subject="Re: Router", to=reply_address("support@helpdesk.example", ticket.number), body="Still")),
        _store(mail(sender="someone.new@example.org", subject="Unrelated")),
    ]
    result = _process(rows)
    assert [result[r.pk].action for r in rows] == ["appended", "appended", "created"]
    ticket.refresh_from_db()
    assert ticket.status == "open"
    assert TicketEvent.objects.filter(ticket=ticket, kind=TicketEvent.Kind.REOPENED).count() == 1
    bodies = list(ticket.messages.order_by("id").values_list("body_text", flat=True))
    assert [b.split("\n")[0] for b in bodies[1:]] == ["It broke again", "Still"]


def test_a_reply_in_a_pipelined_batch_costs_two_statements(world, django_assert_num_queries):
    """Its ticket was locked with the batch's others: only its message INSERT and the ticket UPDATE."""
    _warm()
    tickets = [make_ticket(world.customer, world.technical, subject=f"T{i}") for i in range(4)]
    rows = [_store(mail(subject=f"Re: [#{t.number}] T", body="More info")) for t in tickets]
    # savepoint, settings, 2 claims, accounts, the tickets' lock, reservation, our addresses, SLA policy,
    # webhook endpoints, result UPDATE, release
    with django_assert_num_queries(12 + 2 * len(rows)):
        done = services.process_batch(first_id=rows[0].pk, limit=len(rows))
    assert [r.action for r in done] == ["appended"] * len(rows)
    assert all(t.messages.count() == 2 for t in tickets)


def test_a_batch_loads_only_as_many_raw_bytes_as_its_budget(world, settings):
    """A burst of large mails is not loaded fifty at a time: the batch takes the oldest waiting mails up
    to HELPDESK_INBOUND_BATCH_BYTES (at least one besides its own) and leaves the rest waiting, in order."""
    rows = [_store(mail(sender=f"big{i}@example.org", subject=f"Big {i}", body="x" * 30_000)) for i in range(4)]
    settings.HELPDESK_INBOUND_BATCH_BYTES = rows[0].size + rows[1].size + 10
    done = services.process_batch(first_id=rows[0].pk, limit=10)
    assert [r.pk for r in done] == [rows[0].pk, rows[1].pk]
    assert InboundEmail.objects.get(pk=rows[2].pk).status == "received"
    # The next batch takes the rest, oldest first.
    assert [r.pk for r in services.process_batch(limit=10)][:1] == [rows[2].pk]
