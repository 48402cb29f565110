"""A small fixed history of Technical support (office hours Mon-Fri 09:00-18:00 Berlin) and Sales in
November 2026, built through the services with a frozen clock; every report figure is computed by hand
in the tests from the times below."""

import zoneinfo
from dataclasses import dataclass
from datetime import datetime

import pytest

from departments.models import Membership
from sla import services as sla_services
from sla.models import BusinessHours, SlaPolicy
from tests.factories import AgentFactory, member
from tickets import services
from tickets.models import Ticket

BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")
NOVEMBER = "since=2026-11-01&until=2026-11-30"


def berlin(*args) -> datetime:
    return datetime(*args, tzinfo=BERLIN)


@dataclass
class History:
    t1: Ticket
    t2: Ticket
    t3: Ticket
    t4: Ticket
    t5: Ticket
    lead: object  # an English-speaking manager of Technical support


@pytest.fixture
def lead(world):
    return member(
        AgentFactory(email="lead@helpdesk.example", display_name="Lena Lead", language="en"),
        world.technical,
        Membership.Role.MANAGER,
    )


@pytest.fixture
def history(world, lead, time_machine) -> History:
    at = lambda *args: time_machine.move_to(berlin(*args), tick=False)  # noqa: E731
    BusinessHours.objects.create(
        department=world.technical, time_zone="Europe/Berlin", schedule={str(d): [[540, 1080]] for d in range(5)}
    )
    SlaPolicy.objects.create(department=world.technical, first_response_minutes=60, business_hours=True)
    anna, boris, sam, customer = world.tech_agent, world.departed_agent, world.sales_agent, world.customer

    def ticket(subject):
        return services.ticket_create(
            customer=customer, department=world.technical, subject=subject, body_text="?", acknowledge=False
        )

    # T1: answered after 1 h, the customer asks again, answered 2.5 h later and resolved; rated 4 and 5.
    at(2026, 11, 23, 10, 0)
    t1 = ticket("T1")
    at(2026, 11, 23, 11, 0)
    r1 = services.ticket_reply(ticket=t1, author=anna, body_text="a")
    at(2026, 11, 23, 12, 0)
    services.ticket_customer_message(ticket=t1, author=customer, body_text="still")
    at(2026, 11, 23, 14, 30)
    r2 = services.ticket_reply(ticket=t1, author=anna, body_text="b", status="resolved")
    services.reply_rate(message=r1, customer=customer, score=4)
    services.reply_rate(message=r2, customer=customer, score=5)

    # T3: a note in Technical, then transferred to Sales, where Sam answers.
    at(2026, 11, 24, 9, 0)
    t3 = ticket("T3")
    at(2026, 11, 24, 9, 30)
    services.ticket_note(ticket=t3, author=anna, body_text="for sales")
    at(2026, 11, 24, 10, 0)
    services.ticket_transfer(ticket=t3, actor=anna, department=world.sales)
    at(2026, 11, 24, 11, 0)
    services.ticket_reply(ticket=t3, author=sam, body_text="sales answer")

    # T4: never answered; assigned to Anna; breaches the 1-hour first-response target (sweep at 12:00).
    at(2026, 11, 25, 10, 0)
    t4 = ticket("T4")
    services.ticket_assign(ticket=t4, actor=anna, assignee=anna)
    at(2026, 11, 25, 12, 0)
    sla_services.sweep()

    # T5: resolved after 30 min, reopened by the customer, resolved again at 12:00 (2 h after creation).
    at(2026, 11, 26, 10, 0)
    t5 = ticket("T5")
    at(2026, 11, 26, 10, 30)
    services.ticket_reply(ticket=t5, author=anna, body_text="c", status="resolved")
    at(2026, 11, 26, 11, 0)
    services.ticket_customer_message(ticket=t5, author=customer, body_text="not fixed")
    at(2026, 11, 26, 12, 0)
    services.ticket_reply(ticket=t5, author=anna, body_text="d", status="resolved")

    # T2: created on Friday 17:00, one business hour before closing; Boris answers on Monday 10:00
    # (65 h wall clock, 2 business hours) and closes at 11:00; rated 2. Then Boris leaves.
    at(2026, 11, 27, 17, 0)
    t2 = ticket("T2")
    at(2026, 11, 30, 10, 0)
    r3 = services.ticket_reply(ticket=t2, author=boris, body_text="e")
    at(2026, 11, 30, 11, 0)
    services.ticket_close(ticket=t2, actor=boris)
    services.reply_rate(message=r3, customer=customer, score=2)
    boris.is_active = False
    boris.save(update_fields=["is_active"])

    at(2026, 12, 2, 12, 0)  # the report is read later
    for t in (t1, t2, t3, t4, t5):
        t.refresh_from_db()
    return History(t1=t1, t2=t2, t3=t3, t4=t4, t5=t5, lead=lead)
