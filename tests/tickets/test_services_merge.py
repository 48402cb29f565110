from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from tests.factories import make_ticket
from tickets import services
from tickets.choices import Status
from tickets.models import Participant, Ticket, TicketEvent, TicketLink


def state(ticket):
    ticket = Ticket.objects.get(pk=ticket.pk)
    fields = [
        "status",
        "resolved_at",
        "closed_at",
        "waiting_since",
        "updated_at",
        "merged_into_id",
        "department_id",
    ]
    messages = list(ticket.messages.order_by("pk").values_list("pk", "body_text"))
    participants = sorted(ticket.participants.values_list("email", flat=True))
    return {f: getattr(ticket, f) for f in fields}, messages, participants


@pytest.fixture
def pair(world):
    now = timezone.now()
    with time_machine.travel(now - timedelta(hours=3), tick=False):
        target = make_ticket(
            world.customer, world.technical, subject="Site down", body="first", cc=["a@x.example"]
        )
    with time_machine.travel(now - timedelta(hours=2), tick=False):
        source = make_ticket(
            world.customer, world.technical, subject="Site still down", body="second", cc=["b@x.example"]
        )
    with time_machine.travel(now - timedelta(hours=1), tick=False):
        services.ticket_reply(ticket=target, author=world.tech_agent, body_text="looking")
        services.ticket_note(ticket=source, author=world.tech_agent, body_text="dup?")
    return source, target


def test_merge_combines_conversation_in_time_order_and_closes_source(world, pair):
    source, target = pair
    services.ticket_merge(source=source, target=target, actor=world.tech_agent)
    source.refresh_from_db()
    target.refresh_from_db()
    assert source.merged_into == target and source.status == Status.CLOSED and source.closed_at
    assert list(target.messages.values_list("body_text", flat=True)) == ["first", "second", "looking", "dup?"]
    assert source.messages.count() == 0
    assert sorted(target.participants.values_list("email", flat=True)) == ["a@x.example", "b@x.example"]
    assert TicketLink.objects.filter(source=source, target=target, kind=TicketLink.Kind.MERGED).exists()
    assert services.resolve_merged(source) == target


def test_merge_refuses_different_customers_and_self(world, pair):
    source, target = pair
    stranger = make_ticket(world.other_customer, world.technical)
    with pytest.raises(services.MergeNotAllowed):
        services.ticket_merge(source=stranger, target=target, actor=world.tech_agent)
    with pytest.raises(services.MergeNotAllowed):
        services.ticket_merge(source=target, target=target, actor=world.tech_agent)


def test_merged_ticket_cannot_be_merged_again(world, pair):
    source, target = pair
    services.ticket_merge(source=source, target=target, actor=world.tech_agent)
    third = make_ticket(world.customer, world.technical)
    with pytest.raises(services.MergeNotAllowed):
        services.ticket_merge(source=Ticket.objects.get(pk=source.pk), target=third, actor=world.tech_agent)


def test_undo_restores_both_tickets_exactly(world, pair):
    source, target = pair
    before_source, before_target = state(source), state(target)
    event = services.ticket_merge(source=source, target=target, actor=world.tech_agent)
    # Mail that reached the target after the merge stays on the target.
    late = services.ticket_customer_message(ticket=target, author=world.customer, body_text="late")
    services.ticket_unmerge(event=event, actor=world.tech_agent)
    after_source, after_target = state(source), state(target)
    assert after_source == before_source
    assert after_target[1] == before_target[1] + [(late.pk, "late")]
    assert after_target[2] == before_target[2]
    assert not TicketLink.objects.filter(kind=TicketLink.Kind.MERGED).exists()
    assert source.events.filter(kind=TicketEvent.Kind.UNMERGED).exists()
    assert target.events.filter(kind=TicketEvent.Kind.UNMERGED).exists()


def test_undo_restores_target_fields_without_later_activity(world, pair):
    source, target = pair
    before = state(target)[0]
    source_waiting = Ticket.objects.get(pk=source.pk).waiting_since
    assert before["waiting_since"] is None and source_waiting  # we answered the target, not the source
    event = services.ticket_merge(source=source, target=target, actor=world.tech_agent)
    assert Ticket.objects.get(pk=target.pk).waiting_since == source_waiting  # the customer still waits
    services.ticket_unmerge(event=event, actor=world.tech_agent)
    assert state(target)[0] == before


def test_undo_twice_is_refused(world, pair):
    source, target = pair
    event = services.ticket_merge(source=source, target=target, actor=world.tech_agent)
    services.ticket_unmerge(event=event, actor=world.tech_agent)
    with pytest.raises(services.UnmergeNotAllowed):
        services.ticket_unmerge(event=TicketEvent.objects.get(pk=event.pk), actor=world.tech_agent)
    assert Participant.objects.filter(ticket=target).count() == 1


@pytest.mark.django_db(transaction=True)
def test_crosswise_merges_at_the_same_time_do_not_deadlock(world):
    """a→b and b→a at once: both lock in id order, so one waits, then finds the pair already merged."""
    import threading

    from django.db import connection

    a = make_ticket(world.customer, world.technical, acknowledge=False)
    b = make_ticket(world.customer, world.technical, acknowledge=False)
    barrier = threading.Barrier(2)
    results = []

    def run(source, target):
        try:
            barrier.wait()
            services.ticket_merge(source=source, target=target, actor=world.tech_agent)
            results.append("merged")
        except Exception as exc:  # noqa: BLE001 - the test inspects what happened
            results.append(type(exc).__name__)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=pair) for pair in ((a, b), (b, a))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(results) == ["MergeNotAllowed", "merged"]
    merged = [t for t in Ticket.objects.filter(pk__in=[a.pk, b.pk]) if t.merged_into_id]
    assert len(merged) == 1
