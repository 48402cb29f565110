"""Exactly-once on PostgreSQL: two sweeps at the same time (separate connections), and a sweep that dies
in the middle of a batch."""

import threading
import time
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from mailgateway.models import OutboundEmail
from sla import services as sla
from sla.models import SlaPolicy
from tests.factories import make_ticket
from tickets.models import Ticket, TicketEvent

pytestmark = pytest.mark.django_db(transaction=True)

N = 30


@pytest.fixture
def due_tickets(world):
    SlaPolicy.objects.create(department=world.technical, first_response_minutes=1, business_hours=False)
    tickets = [make_ticket(world.customer, world.technical, subject=f"T{i}", acknowledge=False) for i in range(N)]
    return tickets, timezone.now() + timedelta(hours=1)


def slow_processing(monkeypatch, delay=0.01):
    real = sla.process_due

    def slow(ticket, now, levels, *args):
        time.sleep(delay)  # keeps both sweeps inside their batches at the same time
        return real(ticket, now, levels, *args)

    monkeypatch.setattr(sla, "process_due", slow)


def test_two_concurrent_sweeps_escalate_each_ticket_exactly_once(due_tickets, monkeypatch):
    tickets, later = due_tickets
    slow_processing(monkeypatch)
    barrier = threading.Barrier(2)
    results, errors = [], []

    def run():
        try:
            barrier.wait()
            results.append(sla.sweep(later, batch=5))
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)
        finally:
            connection.close()  # each thread has its own connection

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    assert sum(results) == N and min(results) > 0, results  # both worked, no ticket was taken twice
    escalations = TicketEvent.objects.filter(kind=TicketEvent.Kind.ESCALATED)
    assert escalations.count() == N
    assert sorted(escalations.values_list("ticket_id", flat=True)) == sorted(t.pk for t in tickets)
    assert OutboundEmail.objects.filter(kind="sla_escalated").count() == N  # one manager per ticket
    assert not Ticket.objects.filter(sla_check_at__isnull=False).exists()


def test_sweep_that_dies_mid_batch_leaves_no_trace_and_the_next_one_sends_all(due_tickets, monkeypatch):
    tickets, later = due_tickets
    real = sla.process_due
    calls = []

    def dying(ticket, now, levels, *args):
        calls.append(ticket.pk)
        if len(calls) == 10:
            raise SystemExit("worker killed")  # not an Exception: nothing catches it, like SIGKILL
        return real(ticket, now, levels, *args)

    monkeypatch.setattr(sla, "process_due", dying)
    with pytest.raises(SystemExit):
        sla.sweep(later, batch=N)
    assert not TicketEvent.objects.filter(kind=TicketEvent.Kind.ESCALATED).exists()
    assert not OutboundEmail.objects.filter(kind="sla_escalated").exists()

    monkeypatch.setattr(sla, "process_due", real)
    assert sla.sweep(later) == N
    assert sla.sweep(later) == 0
    assert TicketEvent.objects.filter(kind=TicketEvent.Kind.ESCALATED).count() == N
    assert OutboundEmail.objects.filter(kind="sla_escalated").count() == N
