"""End to end: a real Celery worker with embedded beat runs the SLA sweep every second against the test
database; warnings and escalations arrive at a real SMTP server. A worker killed in the middle of an
escalation leaves nothing behind, and the restarted one escalates exactly once."""

import os
import time
from datetime import timedelta

import psycopg
import pytest
import redis
from django.db import transaction
from django.db.models import F

from sla import services as sla
from sla.models import SlaPolicy
from tests.factories import make_ticket
from tickets import services
from tickets.models import Ticket, TicketEvent

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

BROKER = os.environ.get("SLA_E2E_BROKER_URL") or os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/8")


@pytest.fixture
def worker_env(smtp_server, settings, tmp_path):
    client = redis.Redis.from_url(BROKER)
    try:
        client.ping()
    except redis.ConnectionError as exc:
        pytest.skip(f"Redis not reachable: {exc}")
    client.flushdb()
    yield {
        "DJANGO_SETTINGS_MODULE": "helpdesk_site.settings",
        "DATABASE_URL": os.environ["DATABASE_URL"],  # test_settings points it at TEST_DATABASE_URL
        "CELERY_BROKER_URL": BROKER,
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "EMAIL_URL": f"smtp://{smtp_server.host}:{smtp_server.port}",
        "SECRET_KEY": settings.SECRET_KEY,
        "DEBUG": "false",
        "HELPDESK_VAR_DIR": str(tmp_path / "worker-var"),
        "HELPDESK_SLA_SWEEP_SECONDS": "1",
        "SITE_URL": "https://help.example",
    }
    client.flushdb()


@pytest.fixture
def policy(world):
    return SlaPolicy.objects.create(department=world.technical, first_response_minutes=60, business_hours=False)


def age(ticket: Ticket, minutes: int) -> Ticket:
    """Pretend the ticket arrived `minutes` ago (the worker's clock is real) and recompute its clocks."""
    Ticket.objects.filter(pk=ticket.pk).update(
        created_at=F("created_at") - timedelta(minutes=minutes), waiting_since=F("waiting_since") - timedelta(minutes=minutes)
    )
    with transaction.atomic():
        locked = Ticket.objects.select_for_update().get(pk=ticket.pk)
        sla.recompute(locked)
    return locked


def wait_until(predicate, timeout: float = 30, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def test_warning_then_escalation_arrive_by_smtp(world, policy, celery_worker_factory, worker_env, smtp_server):
    ticket = make_ticket(world.customer, world.technical, subject="Сервер не отвечает", acknowledge=False)
    services.ticket_assign(ticket=ticket, actor=world.tech_manager, assignee=world.tech_agent)
    smtp_server.clear()
    age(ticket, 50)  # the warning (48 min) has passed, the breach (60 min) has not
    celery_worker_factory("helpdesk_site", env=worker_env, beat=True)

    warning = smtp_server.wait_for(lambda m: "SLA warning" in m.subject, timeout=60)
    assert list(warning.rcpt_tos) == [world.tech_agent.email]
    assert warning.subject.strip() == f"[{ticket.reference}] SLA warning: Сервер не отвечает"
    assert "Иван Петров" in warning.text()
    assert f"https://help.example/agent/tickets/{ticket.number}/" in warning.text()

    age(ticket, 15)  # now 65 minutes old: breached
    escalation = smtp_server.wait_for(lambda m: "Эскалация" in m.subject, timeout=60)
    assert list(escalation.rcpt_tos) == [world.tech_manager.email]
    text = escalation.text().replace("\xa0", " ")
    assert "Сервер не отвечает" in escalation.subject and "Иван Петров" in text
    assert f"https://help.example/agent/tickets/{ticket.number}/" in text
    ticket.refresh_from_db()
    assert ticket.escalation_level == 1 and ticket.escalated_at is not None
    time.sleep(3)  # several more sweeps: nothing is sent again
    assert len([m for m in smtp_server.messages if "SLA" in m.subject or "Эскалация" in m.subject]) == 2
    assert TicketEvent.objects.filter(ticket=ticket, kind=TicketEvent.Kind.ESCALATED).count() == 1


def _waiting_on_lock(dsn: str) -> bool:
    with psycopg.connect(dsn, autocommit=True) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
        ).fetchone()
    return bool(row[0])


def test_worker_killed_mid_escalation_escalates_exactly_once(world, policy, celery_worker_factory, worker_env, smtp_server):
    ticket = make_ticket(world.customer, world.technical, subject="Killed mid-sweep", acknowledge=False)
    age(ticket, 61)
    dsn = os.environ["DATABASE_URL"]
    with psycopg.connect(dsn) as blocker:
        # Block inserts into the event table: the worker claims the ticket, then waits inside its sweep
        # transaction when it records the escalation.
        blocker.execute("LOCK TABLE tickets_ticketevent IN SHARE ROW EXCLUSIVE MODE")
        worker = celery_worker_factory("helpdesk_site", env=worker_env, beat=True)
        wait_until(lambda: _waiting_on_lock(dsn), what="the sweep to block mid-escalation")
        worker.kill()
        blocker.rollback()
    time.sleep(1)
    ticket.refresh_from_db()
    assert ticket.escalation_level == 0 and not TicketEvent.objects.filter(kind=TicketEvent.Kind.ESCALATED).exists()
    celery_worker_factory("helpdesk_site", env=worker_env, beat=True)
    mail = smtp_server.wait_for(lambda m: "Эскалация" in m.subject, timeout=60)
    assert list(mail.rcpt_tos) == [world.tech_manager.email]
    time.sleep(3)
    assert len([m for m in smtp_server.messages if "Эскалация" in m.subject]) == 1
    assert TicketEvent.objects.filter(ticket=ticket, kind=TicketEvent.Kind.ESCALATED).count() == 1
