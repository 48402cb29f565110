import threading

import pytest
from django.db import IntegrityError, connection, connections, transaction

from tests.factories import make_ticket
from tickets.models import Message, Participant, Rating, Ticket


def test_reference_is_hash_number(world):
    ticket = make_ticket(world.customer, world.technical)
    assert ticket.reference == f"#{ticket.number}"
    assert ticket.number >= 10001


def test_reference_numbers_are_unique(world):
    ticket = make_ticket(world.customer, world.technical)
    with pytest.raises(IntegrityError), transaction.atomic():
        Ticket.objects.create(
            number=ticket.number, subject="dup", customer=world.customer, department=world.technical
        )


def test_rolled_back_creation_leaves_a_gap_not_a_duplicate(world):
    first = make_ticket(world.customer, world.technical)
    with pytest.raises(RuntimeError), transaction.atomic():
        make_ticket(world.customer, world.technical)
        raise RuntimeError("abort")
    second = make_ticket(world.customer, world.technical)
    assert second.number > first.number + 1  # the sequence value was consumed: a gap, which is fine


@pytest.mark.django_db(transaction=True)
def test_concurrent_creation_gets_distinct_numbers(world):
    if connection.vendor != "postgresql":
        pytest.skip("sequence behaviour is PostgreSQL's")
    numbers, errors = [], []
    barrier = threading.Barrier(8)

    def create():
        try:
            barrier.wait()
            for _ in range(10):
                numbers.append(make_ticket(world.customer, world.technical).number)
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=create) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len(numbers) == 80 == len(set(numbers))
    assert Ticket.objects.count() == 80


def test_priority_range_is_enforced_by_the_database(world):
    ticket = make_ticket(world.customer, world.technical)
    with pytest.raises(IntegrityError), transaction.atomic():
        Ticket.objects.filter(pk=ticket.pk).update(priority=9)


def test_rating_score_range_is_enforced(world):
    ticket = make_ticket(world.customer, world.technical)
    msg = ticket.messages.get()
    with pytest.raises(IntegrityError), transaction.atomic():
        Rating.objects.create(message=msg, score=6)


def test_participant_is_unique_per_ticket(world):
    ticket = make_ticket(world.customer, world.technical, cc=["boss@customer.example"])
    assert list(ticket.participants.values_list("email", flat=True)) == ["boss@customer.example"]
    with pytest.raises(IntegrityError), transaction.atomic():
        Participant.objects.create(ticket=ticket, email="boss@customer.example")


def test_ticket_cannot_be_merged_into_itself(world):
    ticket = make_ticket(world.customer, world.technical)
    with pytest.raises(IntegrityError), transaction.atomic():
        Ticket.objects.filter(pk=ticket.pk).update(merged_into=ticket.pk)


def test_only_one_triage_department(world):
    from departments.models import Department

    with pytest.raises(IntegrityError), transaction.atomic():
        Department.objects.create(name="Second triage", slug="triage2", from_email="t2@x.example", is_triage=True)


def test_user_email_is_case_insensitively_unique(db):
    from accounts.models import User

    User.objects.create_user("Case@Example.com", "pw")
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create(email="case@EXAMPLE.com")


def test_first_message_is_the_customer_question(world):
    ticket = make_ticket(world.customer, world.technical, body="Сайт не работает")
    msg = ticket.messages.get()
    assert (msg.kind, msg.author, msg.body_text) == (Message.Kind.CUSTOMER, world.customer, "Сайт не работает")
