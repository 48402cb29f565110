"""The benchmark dataset carries realistic SLA state, and the SLA benchmark builds its rows idempotently
and leaves the database as it found it."""

import io

import pytest
from django.core.management import call_command
from django.utils import timezone

from benchmarks import sla as bench
from sla import services as sla
from sla.models import Clock, SlaPolicy
from tickets.models import Ticket, TicketEvent

pytestmark = pytest.mark.django_db(transaction=True)


def test_generated_dataset_has_sla_state_and_nothing_due_yet():
    call_command("generate_dataset", tickets=400, batch=400, stdout=io.StringIO())
    running = Ticket.objects.filter(status__in=["new", "open"])
    assert running.exists()
    assert not running.filter(resolution_due_at__isnull=True).exists()
    assert not running.filter(sla_resumed_at__isnull=True).exists()
    assert not Ticket.objects.filter(status="new", first_response_due_at__isnull=True).exists()
    assert not Ticket.objects.filter(status="pending", resolution_due_at__isnull=False).exists()
    assert not Ticket.objects.filter(status__in=["resolved", "closed"], sla_check_at__isnull=False).exists()
    assert not Ticket.objects.filter(sla_check_at__lte=timezone.now()).exists()
    # The sweep's index (sla_clock) is filled after the load, with the triggers off: one row per running clock.
    clocks = dict(Clock.objects.values_list("ticket_id", "check_at"))
    assert clocks and clocks == dict(Ticket.objects.filter(sla_check_at__isnull=False).values_list("pk", "sla_check_at"))
    assert sla.sweep() == 0
    # Every generated department has the policy its tickets' due times follow: a recompute keeps them.
    assert SlaPolicy.objects.filter(department__slug__startswith="bench-", priority=None).count() == 20


def test_sla_benchmark_tops_up_once_and_rolls_back_its_measurement(world, monkeypatch):
    assert bench.ensure_open_tickets(120) == 120
    assert bench.ensure_open_tickets(120) == 0  # idempotent
    monkeypatch.setattr(bench, "TARGET_OPEN", 150)
    monkeypatch.setattr(bench, "DUE", 40)
    result = bench.run()
    assert result["open_tickets"] == 150 and result["filler_added"] == 30
    assert result["due"] == 40 and result["swept"] == 40 and result["idle_swept"] == 0
    assert result["claim_uses_partial_index"] is True or result["claim_uses_partial_index"] is False
    assert result["claim_ms"] > 0
    # Five sweeps of their own tickets each (after a warm-up), and five of the same rows for comparison.
    assert result["sweep_1000_ms"] > 0 and result["sweep_1000_same_rows_ms"] > 0
    # Rolled back: nothing escalated, nothing due.
    assert not TicketEvent.objects.filter(kind=TicketEvent.Kind.ESCALATED).exists()
    assert not Ticket.objects.filter(sla_check_at__lte=timezone.now()).exists()
