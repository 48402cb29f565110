"""The sweep: warnings before the breach, escalation on it, further levels, each exactly once."""

from datetime import timedelta

from mailgateway.models import OutboundEmail
from sla import services as sla
from sla.models import EscalationLevel
from tests.factories import AgentFactory, make_ticket, member
from tickets import services
from tickets.agent_selectors import queue_tickets
from tickets.choices import Status
from tickets.models import Ticket, TicketEvent

from .conftest import berlin


def sweep_mail(sent_mail):
    sla.sweep()
    return [m for m in sent_mail() if "SLA" in m.subject or "scalat" in m.subject or "Эскал" in m.subject]


def test_nothing_is_sent_before_the_warning_time(world, policy, clock, sent_mail):
    make_ticket(world.customer, world.technical, acknowledge=False)
    clock(berlin(2026, 11, 23, 10, 47))
    assert sla.sweep() == 0
    assert sent_mail() == []


def test_warning_goes_to_the_assignee_once(world, policy, clock, sent_mail):
    ticket = make_ticket(world.customer, world.technical, subject="Сервер лежит", acknowledge=False)
    services.ticket_assign(ticket=ticket, actor=world.tech_manager, assignee=world.tech_agent)
    sent_mail().clear()
    clock(berlin(2026, 11, 23, 10, 48))
    assert sla.sweep() == 1
    mails = sent_mail()
    assert [m.to for m in mails] == [[world.tech_agent.email]]
    assert f"[{ticket.reference}] SLA warning: Сервер лежит" == mails[0].subject
    body = mails[0].body.replace("\xa0", " ")  # timesince joins numbers with no-break spaces
    assert "First response" in body and "Иван Петров" in body and "12 minutes" in body
    assert f"/agent/tickets/{ticket.number}/" in body
    assert TicketEvent.objects.filter(ticket=ticket, kind=TicketEvent.Kind.SLA_WARNING).count() == 1
    clock(berlin(2026, 11, 23, 10, 55))
    assert sla.sweep() == 0
    assert len(sent_mail()) == 1


def test_unassigned_warning_goes_to_the_departments_active_agents(world, policy, clock, sent_mail):
    world.departed_agent.is_active = False
    world.departed_agent.save()
    make_ticket(world.customer, world.technical, acknowledge=False)
    clock(berlin(2026, 11, 23, 10, 50))
    sla.sweep()
    assert sorted(m.to[0] for m in sent_mail()) == sorted([world.tech_agent.email, world.tech_manager.email])


def test_breach_escalates_to_managers_in_their_language(world, policy, clock, sent_mail):
    ticket = make_ticket(world.customer, world.technical, subject="Сайт не открывается", acknowledge=False)
    clock(berlin(2026, 11, 23, 10, 50))
    sla.sweep()
    sent_mail().clear()
    clock(berlin(2026, 11, 23, 11, 1))
    assert sla.sweep() == 1
    mails = sent_mail()
    assert [m.to for m in mails] == [[world.tech_manager.email]]  # the manager is Russian
    mail = mails[0]
    assert ticket.reference in mail.subject and "Сайт не открывается" in mail.subject
    assert "Иван Петров" in mail.body and f"/agent/tickets/{ticket.number}/" in mail.body
    assert "1\xa0час, 1\xa0минута" in mail.body  # waited 1 hour 1 minute, in Russian
    ticket.refresh_from_db()
    assert ticket.escalated_at is not None and ticket.escalation_level == 1
    event = TicketEvent.objects.get(ticket=ticket, kind=TicketEvent.Kind.ESCALATED)
    assert event.data["level"] == 1 and event.data["target"] == "first_response"
    assert ticket in queue_tickets(user=world.tech_manager, queue="escalated")
    # Nothing more to do until a further level: the sweep never looks at it again.
    assert ticket.sla_check_at is None
    sent_mail().clear()
    clock(berlin(2026, 11, 23, 15, 0))
    assert sla.sweep() == 0 and sent_mail() == []


def test_further_levels_go_to_named_users_and_addresses(world, policy, clock, sent_mail):
    director = member(AgentFactory(email="director@helpdesk.example", language="de"), world.technical)
    EscalationLevel.objects.create(department=world.technical, level=1, after_minutes=0)
    second = EscalationLevel.objects.create(
        department=world.technical, level=2, after_minutes=30, notify_managers=False, emails="duty@example.org"
    )
    second.users.add(director)
    ticket = make_ticket(world.customer, world.technical, acknowledge=False)
    clock(berlin(2026, 11, 23, 11, 10))
    sla.sweep()
    assert {m.to[0] for m in sent_mail()} >= {world.tech_manager.email}
    sent_mail().clear()
    clock(berlin(2026, 11, 23, 11, 29))
    assert sla.sweep() == 0
    clock(berlin(2026, 11, 23, 11, 30))
    assert sla.sweep() == 1
    assert sorted(m.to[0] for m in sent_mail()) == ["director@helpdesk.example", "duty@example.org"]
    ticket.refresh_from_db()
    assert ticket.escalation_level == 2 and ticket.sla_check_at is None


def test_sweep_after_a_long_outage_sends_each_level_once(world, policy, clock, sent_mail):
    EscalationLevel.objects.create(department=world.technical, level=1)
    EscalationLevel.objects.create(
        department=world.technical, level=2, after_minutes=60, notify_managers=False, emails="duty@example.org"
    )
    make_ticket(world.customer, world.technical, acknowledge=False)
    clock(berlin(2026, 11, 24, 9, 0))
    sla.sweep()
    sla.sweep()
    sent_mail()  # the notices are turned into outbox rows after commit
    keys = list(OutboundEmail.objects.filter(kind="sla_escalated").values_list("to", flat=True))
    assert sorted(k[0] for k in keys) == sorted([world.tech_manager.email, "duty@example.org"])
    assert OutboundEmail.objects.filter(kind="sla_warning").count() == 0  # breached before any sweep


def test_answering_ends_the_escalation(world, policy, clock, sent_mail):
    ticket = make_ticket(world.customer, world.technical, acknowledge=False)
    clock(berlin(2026, 11, 23, 11, 5))
    sla.sweep()
    services.ticket_reply(ticket=ticket, author=world.tech_agent, body_text="Sorry!", status=Status.OPEN)
    ticket.refresh_from_db()
    assert ticket.escalated_at is None and ticket.escalation_level == 0
    assert ticket not in queue_tickets(user=world.tech_manager, queue="escalated")
    # The resolution clock still runs: its warning and breach come later.
    assert ticket.sla_check_at == berlin(2026, 11, 23, 16, 24)


def test_a_failing_ticket_does_not_block_the_others(world, policy, clock, sent_mail, monkeypatch):
    good = make_ticket(world.customer, world.technical, acknowledge=False)
    bad = make_ticket(world.other_customer, world.technical, acknowledge=False)
    real = sla._warn

    def warn(ticket, *args):
        if ticket.pk == bad.pk:
            raise RuntimeError("template broke")
        return real(ticket, *args)

    monkeypatch.setattr(sla, "_warn", warn)
    clock(berlin(2026, 11, 23, 10, 50))
    assert sla.sweep() == 2
    good.refresh_from_db(), bad.refresh_from_db()
    assert good.sla_warn_at is None
    assert bad.sla_warn_at is not None and bad.sla_check_at == berlin(2026, 11, 23, 10, 50) + timedelta(minutes=5)
    assert not TicketEvent.objects.filter(ticket=bad, kind=TicketEvent.Kind.SLA_WARNING).exists()


def test_a_row_changed_around_the_services_is_dropped_from_the_sweep(world, policy, clock, sent_mail):
    ticket = make_ticket(world.customer, world.technical, acknowledge=False)
    Ticket.objects.filter(pk=ticket.pk).update(status=Status.CLOSED)  # e.g. a raw SQL clean-up
    clock(berlin(2026, 11, 23, 12, 0))
    assert sla.sweep() == 1
    ticket.refresh_from_db()
    assert ticket.sla_check_at is None and ticket.escalation_level == 0 and sent_mail() == []


def test_escalation_mail_shows_the_due_time_in_the_recipients_time_zone(world, policy, clock, sent_mail):
    world.tech_manager.time_zone = "Asia/Vladivostok"  # UTC+10: 11:00 Berlin is 20:00 there
    world.tech_manager.language = "en"
    world.tech_manager.save()
    make_ticket(world.customer, world.technical, acknowledge=False)
    clock(berlin(2026, 11, 23, 11, 1))
    sla.sweep()
    (mail,) = [m for m in sent_mail() if m.to == [world.tech_manager.email]]
    assert "Due: Nov. 23, 2026, 8 p.m." in mail.body
    assert "8 p.m." in mail.alternatives[0][0]
