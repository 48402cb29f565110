"""The set-based sweep: a batch of due tickets in several departments becomes levels, events, notices and
mails in each recipient's language; re-running changes nothing; notices a killed worker left behind are
mailed by the beat safety net; the number of queries does not grow with the number of due tickets."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from departments.models import Membership
from mailgateway import outbound
from mailgateway.models import OutboundEmail
from sla import hooks, notifications, tasks
from sla import services as sla
from sla.models import EscalationLevel, Notice, SlaPolicy
from tests.factories import AgentFactory, make_ticket, member
from tickets import services
from tickets.models import Ticket, TicketEvent

from .conftest import berlin


def sla_mail(sent_mail, to: str) -> list:
    return [m for m in sent_mail() if m.to == [to] and m.extra_headers.get("Auto-Submitted")]


def drop_after_commit_work() -> None:
    """The worker died right after the sweep committed: its after-commit tasks never ran."""
    connection.run_on_commit.clear()


@pytest.fixture
def two_departments(world, policy):
    """Technical: level 1 to the (Russian) manager, level 2 after 30 minutes to a German director and a duty
    address. Sales: calendar time, default level 1 to its English manager."""
    director = member(AgentFactory(email="director@helpdesk.example", language="de"), world.technical)
    EscalationLevel.objects.create(department=world.technical, level=1)
    second = EscalationLevel.objects.create(
        department=world.technical, level=2, after_minutes=30, notify_managers=False, emails="duty@example.org"
    )
    second.users.add(director)
    sales_boss = member(
        AgentFactory(email="sales.boss@helpdesk.example", language="en"), world.sales, Membership.Role.MANAGER
    )
    SlaPolicy.objects.create(department=world.sales, first_response_minutes=60, business_hours=False)
    return director, sales_boss


def test_a_batch_escalates_warns_and_mails_each_recipient_in_their_language(
    world, two_departments, clock, sent_mail
):
    director, sales_boss = two_departments
    technical = [make_ticket(world.customer, world.technical, subject=f"T{i}", acknowledge=False) for i in range(5)]
    sales = [make_ticket(world.other_customer, world.sales, subject=f"S{i}", acknowledge=False) for i in range(3)]
    clock(berlin(2026, 11, 23, 10, 40))
    warned = make_ticket(world.customer, world.technical, subject="Soon", acknowledge=False)
    services.ticket_assign(ticket=warned, actor=world.tech_manager, assignee=world.tech_agent)
    sent_mail().clear()
    now = clock(berlin(2026, 11, 23, 11, 31))  # technical: both levels due; sales: level 1; "Soon": warning

    assert sla.sweep() == 9

    for ticket in technical:
        ticket.refresh_from_db()
        assert (ticket.escalation_level, ticket.escalated_at, ticket.sla_check_at) == (2, now, None)
    for ticket in sales:
        ticket.refresh_from_db()
        assert (ticket.escalation_level, ticket.escalated_at, ticket.sla_check_at) == (1, now, None)
    warned.refresh_from_db()
    assert warned.escalation_level == 0 and warned.sla_warn_at is None
    assert warned.sla_check_at == berlin(2026, 11, 23, 11, 40)  # its breach, level 1
    escalations = TicketEvent.objects.filter(kind=TicketEvent.Kind.ESCALATED)
    assert sorted(escalations.values_list("data__level", flat=True)) == [1] * 8 + [2] * 5
    assert escalations.get(ticket=technical[0], data__level=2).data["target"] == "first_response"
    assert TicketEvent.objects.filter(kind=TicketEvent.Kind.SLA_WARNING).get().ticket == warned
    assert Notice.objects.count() == 14 and Notice.objects.filter(queued_at__isnull=True).count() == 14

    boss_mail = sla_mail(sent_mail, world.tech_manager.email)
    assert sorted(m.subject for m in boss_mail) == sorted(
        f"[{t.reference}] Эскалация, срок нарушен: {t.subject}" for t in technical
    )
    assert {m.subject.split("] ")[1] for m in sla_mail(sent_mail, director.email)} == {
        f"Eskaliert, Frist verpasst: T{i}" for i in range(5)
    }
    assert len(sla_mail(sent_mail, "duty@example.org")) == 5
    assert sorted(m.subject for m in sla_mail(sent_mail, sales_boss.email)) == sorted(
        f"[{t.reference}] Escalated, target missed: {t.subject}" for t in sales
    )
    (warning,) = sla_mail(sent_mail, world.tech_agent.email)
    assert warning.subject == f"[{warned.reference}] SLA warning: Soon"
    assert "Иван Петров" in boss_mail[0].body and f"/agent/tickets/{technical[0].number}/" in boss_mail[0].body
    assert not Notice.objects.filter(queued_at__isnull=True).exists()


def test_running_the_sweep_and_its_mail_again_changes_nothing(world, two_departments, clock, sent_mail):
    for i in range(4):
        make_ticket(world.customer, world.technical, subject=f"T{i}", acknowledge=False)
    clock(berlin(2026, 11, 23, 11, 31))
    assert sla.sweep() == 4
    mails = len(sent_mail())
    state = list(Ticket.objects.order_by("pk").values_list("escalation_level", "escalated_at", "sla_check_at"))
    counts = (TicketEvent.objects.count(), Notice.objects.count(), OutboundEmail.objects.count())

    assert sla.sweep() == 0
    assert notifications.send_notices(list(Notice.objects.values_list("pk", flat=True))) == 0  # a redelivered task
    clock(berlin(2026, 11, 23, 11, 40))
    assert tasks.notify_pending() == 0
    assert len(sent_mail()) == mails
    assert list(Ticket.objects.order_by("pk").values_list("escalation_level", "escalated_at", "sla_check_at")) == state
    assert (TicketEvent.objects.count(), Notice.objects.count(), OutboundEmail.objects.count()) == counts


def test_notices_of_a_worker_killed_after_the_commit_are_mailed_by_the_beat_safety_net(
    world, policy, clock, sent_mail
):
    tickets = [make_ticket(world.customer, world.technical, subject=f"T{i}", acknowledge=False) for i in range(3)]
    sent_mail().clear()
    clock(berlin(2026, 11, 23, 11, 1))
    assert sla.sweep() == 3
    drop_after_commit_work()
    assert sent_mail() == [] and Notice.objects.filter(queued_at__isnull=True).count() == 3

    assert tasks.notify_pending() == 0  # within the grace period the after-commit task may still come
    clock(berlin(2026, 11, 23, 11, 4))
    assert tasks.notify_pending() == 3
    assert sorted(m.subject for m in sla_mail(sent_mail, world.tech_manager.email)) == sorted(
        f"[{t.reference}] Эскалация, срок нарушен: {t.subject}" for t in tickets
    )
    assert tasks.notify_pending() == 0 and sla.sweep() == 0
    assert len(sla_mail(sent_mail, world.tech_manager.email)) == 3


def test_notify_killed_mid_batch_leaves_the_notices_pending_and_the_retry_mails_once(
    world, policy, clock, sent_mail, monkeypatch
):
    for i in range(3):
        make_ticket(world.customer, world.technical, subject=f"T{i}", acknowledge=False)
    sent_mail().clear()
    clock(berlin(2026, 11, 23, 11, 1))
    sla.sweep()
    drop_after_commit_work()
    real = outbound.queue_emails

    def killed(emails):
        real(emails)
        raise SystemExit("worker killed")  # after the outbox rows were written, before the commit

    monkeypatch.setattr(notifications, "queue_emails", killed)
    with pytest.raises(SystemExit):
        notifications.send_notices()
    assert not OutboundEmail.objects.filter(kind="sla_escalated").exists()
    assert Notice.objects.filter(queued_at__isnull=True).count() == 3

    monkeypatch.setattr(notifications, "queue_emails", real)
    clock(berlin(2026, 11, 23, 11, 5))
    assert tasks.notify_pending() == 3
    assert len(sla_mail(sent_mail, world.tech_manager.email)) == 3
    assert OutboundEmail.objects.filter(kind="sla_escalated").count() == 3


def test_a_notice_that_cannot_be_rendered_is_retried_without_holding_back_the_others(
    world, policy, clock, sent_mail, monkeypatch
):
    good = make_ticket(world.customer, world.technical, subject="Good", acknowledge=False)
    bad = make_ticket(world.customer, world.technical, subject="Bad", acknowledge=False)
    real = notifications._render

    def render(notice, recipients):
        if notice.ticket_id == bad.pk:
            raise RuntimeError("template broke")
        return real(notice, recipients)

    monkeypatch.setattr(notifications, "_render", render)
    sent_mail().clear()
    clock(berlin(2026, 11, 23, 11, 1))
    sla.sweep()
    assert [m.subject for m in sla_mail(sent_mail, world.tech_manager.email)] == [
        f"[{good.reference}] Эскалация, срок нарушен: Good"
    ]
    failed = Notice.objects.get(ticket=bad)
    assert failed.queued_at is None and failed.attempts == 1 and "template broke" in failed.last_error

    monkeypatch.setattr(notifications, "_render", real)  # fixed (deployed) later
    clock(berlin(2026, 11, 23, 11, 10))
    assert tasks.notify_pending() == 1
    assert len(sla_mail(sent_mail, world.tech_manager.email)) == 2


def test_the_escalation_hook_is_called_once_per_level_after_commit(world, two_departments, clock, monkeypatch):
    calls = []
    monkeypatch.setattr(hooks, "ticket_escalated", lambda **kw: calls.append(kw))
    monkeypatch.setattr(hooks, "escalation_wanted", lambda: True)
    ticket = make_ticket(world.customer, world.technical, acknowledge=False)
    clock(berlin(2026, 11, 23, 11, 31))
    sla.sweep()
    assert calls == []  # not before the commit
    callbacks = connection.run_on_commit[:]
    connection.run_on_commit.clear()
    for _sids, func, _robust in callbacks:
        func()
    events = dict(TicketEvent.objects.filter(kind=TicketEvent.Kind.ESCALATED).values_list("data__level", "pk"))
    assert sorted(calls, key=lambda c: c["level"]) == [
        {"ticket_id": ticket.pk, "level": 1, "event_id": events[1]},
        {"ticket_id": ticket.pk, "level": 2, "event_id": events[2]},
    ]


def _queries_to_sweep(world, clock, count: int, start) -> tuple[int, int]:
    clock(start)
    for i in range(count):
        make_ticket(world.customer, world.technical, subject=f"T{i}", acknowledge=False)
    clock(start + timedelta(hours=1, minutes=31))
    connection.run_on_commit.clear()
    with CaptureQueriesContext(connection) as sweep_queries:
        assert sla.sweep() == count
    ids = list(Notice.objects.filter(queued_at__isnull=True).values_list("pk", flat=True))
    connection.run_on_commit.clear()
    with CaptureQueriesContext(connection) as notify_queries:
        assert notifications.send_notices(ids) == count * 2
    connection.run_on_commit.clear()
    return len(sweep_queries), len(notify_queries)


def test_queries_of_a_sweep_and_its_mail_do_not_grow_with_the_number_of_due_tickets(
    world, two_departments, clock
):
    few = _queries_to_sweep(world, clock, 2, berlin(2026, 11, 23, 10, 0))
    many = _queries_to_sweep(world, clock, 25, berlin(2026, 11, 24, 10, 0))
    assert few == many
    sweep_queries, notify_queries = many
    assert sweep_queries <= 7  # savepoint, claim, 2 x levels, UPDATE, INSERT events+notices, release, claim
    assert notify_queries <= 8


def test_admin_lists_the_notices(world, policy, clock, client_for):
    ticket = make_ticket(world.customer, world.technical, subject="Listed", acknowledge=False)
    clock(berlin(2026, 11, 23, 11, 1))
    sla.sweep()
    response = client_for(world.admin).get("/admin/sla/notice/", {"queued_at__isempty": "1"})
    assert response.status_code == 200 and ticket.subject in response.content.decode()


def test_a_broker_outage_after_the_commit_neither_fails_the_sweep_nor_loses_the_mail(
    world, policy, clock, sent_mail, monkeypatch
):
    def broker_down(*args, **kwargs):
        raise ConnectionError("redis is down")

    ticket = make_ticket(world.customer, world.technical, subject="Outage", acknowledge=False)
    sent_mail().clear()
    monkeypatch.setattr(tasks.notify, "delay", broker_down)
    clock(berlin(2026, 11, 23, 11, 1))
    assert sla.sweep() == 1
    assert sent_mail() == []  # the after-commit work ran and failed quietly
    monkeypatch.undo()
    clock(berlin(2026, 11, 23, 11, 4))
    assert tasks.notify_pending() == 1
    assert [m.subject for m in sla_mail(sent_mail, world.tech_manager.email)] == [
        f"[{ticket.reference}] Эскалация, срок нарушен: Outage"
    ]
