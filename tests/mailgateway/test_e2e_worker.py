"""End to end with real processes: a Celery worker subprocess (Redis broker), an aiosmtpd SMTP sink.

customer mail -> stored -> the worker makes a ticket -> an agent replies -> the worker sends it by
SMTP -> the customer's answer (In-Reply-To only, no tag) threads into the same ticket; and a worker
that was killed processes, after restart, what was stored meanwhile.
"""

import os
import time

import psycopg
import pytest
import redis

from mailgateway import services
from mailgateway.models import InboundEmail
from mailgateway.parsing import parse
from tickets import services as ticket_services
from tickets.models import Ticket

from .mails import mail

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

BROKER = os.environ.get("GATEWAY_E2E_BROKER_URL") or os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/5")


@pytest.fixture
def broker(monkeypatch):
    """Point this process's Celery app at a private Redis db (not eager), like the web process."""
    from helpdesk_site.celery import app

    client = redis.Redis.from_url(BROKER)
    try:
        client.ping()
    except redis.ConnectionError as exc:
        pytest.skip(f"Redis not reachable: {exc}")
    client.flushdb()
    # Celery reads CELERY_BROKER_URL from the environment before its configuration.
    monkeypatch.setenv("CELERY_BROKER_URL", BROKER)
    saved = app.conf.broker_url, app.conf.task_always_eager
    app.conf.broker_url, app.conf.task_always_eager = BROKER, False
    app._pool = None  # the connection pool is built from broker_url on first use
    app.amqp._producer_pool = None
    yield BROKER
    app.conf.broker_url, app.conf.task_always_eager = saved
    app._pool = None
    app.amqp._producer_pool = None
    client.flushdb()


@pytest.fixture
def worker_env(smtp_server, broker, settings, tmp_path):
    return {
        "DJANGO_SETTINGS_MODULE": "helpdesk_site.settings",
        "DATABASE_URL": os.environ["DATABASE_URL"],  # test_settings points it at TEST_DATABASE_URL
        "CELERY_BROKER_URL": broker,
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "EMAIL_URL": f"smtp://{smtp_server.host}:{smtp_server.port}",
        "SECRET_KEY": settings.SECRET_KEY,  # reply addresses are signed with it
        "DEBUG": "false",
        "HELPDESK_VAR_DIR": str(tmp_path / "worker-var"),
        "MEDIA_ROOT": str(settings.MEDIA_ROOT),
    }


@pytest.fixture
def worker(celery_worker_factory, worker_env):
    return celery_worker_factory("helpdesk_site", env=worker_env)


def wait_until(predicate, timeout: float = 30, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def processed(row_id: int) -> InboundEmail | None:
    row = InboundEmail.objects.get(pk=row_id)
    return row if row.status != "received" else None


def test_mail_to_ticket_to_smtp_reply_and_threaded_answer(world, worker, smtp_server):
    row, created = services.receive(mail(subject="VPN не работает", body="Помогите"), source="pipe")
    assert created
    row = wait_until(lambda: processed(row.pk), what="the worker to process the mail")
    assert row.action == "created"
    ticket = row.ticket
    ack = smtp_server.wait_for(lambda m: "ivan@customer.example" in m.rcpt_tos)
    assert f"[#{ticket.number}]" in parse(ack.raw).subject

    smtp_server.clear()
    ticket_services.ticket_reply(ticket=ticket, author=world.tech_agent, body_text="Перезагрузите роутер")
    sent = smtp_server.wait_for(lambda m: "Перезагрузите" in parse(m.raw).text)
    reply = parse(sent.raw)
    assert reply.subject == f"[#{ticket.number}] VPN не работает"
    assert reply.from_email == "support@helpdesk.example"

    answer, _ = services.receive(
        mail(subject="Re: VPN", in_reply_to=f"<{reply.message_id}>", body="Помогло, спасибо"), source="pipe"
    )
    answer = wait_until(lambda: processed(answer.pk), what="the answer to be processed")
    assert (answer.action, answer.ticket_id) == ("appended", ticket.pk)
    assert Ticket.objects.count() == 1
    assert list(ticket.messages.values_list("kind", flat=True)) == ["customer", "reply", "customer"]


def test_mail_stored_while_the_worker_is_dead_is_processed_after_restart(world, worker):
    worker.kill()
    row, _ = services.receive(mail(subject="Stored while the worker was dead"), source="pipe")
    time.sleep(1)
    assert InboundEmail.objects.get(pk=row.pk).status == "received"
    worker.start()
    row = wait_until(lambda: processed(row.pk), what="the restarted worker to process the mail")
    assert row.action == "created" and Ticket.objects.get().subject == "Stored while the worker was dead"


def _waiting_on_lock(dsn: str) -> bool:
    with psycopg.connect(dsn, autocommit=True) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
        ).fetchone()
    return bool(row[0])


def test_worker_killed_in_the_middle_of_processing_loses_nothing(world, celery_worker_factory, worker_env):
    from tests.factories import make_ticket

    ticket = make_ticket(world.customer, world.technical, subject="Half-processed")
    dsn = os.environ["DATABASE_URL"]
    # Sweep quickly so the test does not wait the production grace period.
    env = {**worker_env, "HELPDESK_INBOUND_SWEEP_AFTER": "1", "HELPDESK_INBOUND_SWEEP_SECONDS": "2"}
    worker = celery_worker_factory("helpdesk_site", env=env)
    with psycopg.connect(dsn) as blocker:
        # Hold the ticket's row lock: the worker gets as far as ticket_customer_message and waits there,
        # inside its processing transaction, with the InboundEmail row claimed.
        blocker.execute("SELECT id FROM tickets_ticket WHERE id = %s FOR UPDATE", [ticket.pk])
        row, _ = services.receive(mail(subject=f"Re: [#{ticket.number}] Half-processed", body="Mid-kill"), source="pipe")
        wait_until(lambda: _waiting_on_lock(dsn), what="the worker to block inside processing")
        worker.kill()
        blocker.rollback()
    time.sleep(1)
    assert InboundEmail.objects.get(pk=row.pk).status == "received"  # its transaction died with it
    assert ticket.messages.count() == 1
    restarted = celery_worker_factory("helpdesk_site", env=env, beat=True)  # beat runs the sweep
    row = wait_until(lambda: processed(row.pk), timeout=60, what="the sweep to process the stored mail")
    assert restarted.is_running
    assert (row.action, row.ticket_id) == ("appended", ticket.pk)
    assert list(ticket.messages.values_list("body_text", flat=True))[1].startswith("Mid-kill")
    assert ticket.messages.count() == 2  # exactly once
