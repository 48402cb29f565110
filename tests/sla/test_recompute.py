"""Due times follow every ticket change: creation, replies, pending, transfer, priority, resolution."""

from datetime import timedelta

from sla.business_hours import business_minutes_between
from sla.models import BusinessHours, Holiday, SlaPolicy
from sla.selectors import calendar_for
from tests.factories import make_ticket
from tickets import services
from tickets.choices import Priority, Status

from .conftest import MONDAY_10, berlin


def fresh(ticket):
    ticket.refresh_from_db()
    return ticket


def test_new_ticket_gets_first_response_and_resolution_due(world, policy, clock):
    ticket = fresh(make_ticket(world.customer, world.technical))
    assert ticket.first_response_due_at == berlin(2026, 11, 23, 11, 0)
    assert ticket.next_response_due_at is None
    assert ticket.resolution_due_at == berlin(2026, 11, 23, 18, 0)  # 8 business hours, 9 left today
    assert ticket.sla_warn_at == berlin(2026, 11, 23, 10, 48)  # 80% of the first-response hour
    assert ticket.sla_check_at == ticket.sla_warn_at


def test_ticket_created_friday_evening_is_due_monday(world, policy, clock):
    clock(berlin(2026, 11, 27, 19, 30))
    ticket = fresh(make_ticket(world.customer, world.technical))
    assert ticket.first_response_due_at == berlin(2026, 11, 30, 10, 0)
    assert ticket.resolution_due_at == berlin(2026, 11, 30, 17, 0)


def test_holiday_moves_the_due_time(world, policy, clock):
    Holiday.objects.create(date=berlin(2026, 11, 24, 0, 0).date(), name="Company day")  # global
    clock(berlin(2026, 11, 23, 17, 30))
    ticket = fresh(make_ticket(world.customer, world.technical))
    assert ticket.first_response_due_at == berlin(2026, 11, 25, 9, 30)


def test_without_policy_there_are_no_due_times(world, clock):
    ticket = fresh(make_ticket(world.customer, world.sales))
    assert (ticket.first_response_due_at, ticket.resolution_due_at, ticket.sla_check_at) == (None, None, None)


def test_calendar_time_policy_ignores_business_hours(world, office_hours, clock):
    SlaPolicy.objects.create(department=world.technical, first_response_minutes=60, business_hours=False)
    clock(berlin(2026, 11, 28, 23, 30))  # Saturday night
    ticket = fresh(make_ticket(world.customer, world.technical))
    assert ticket.first_response_due_at == berlin(2026, 11, 29, 0, 30)


def test_agent_reply_clears_first_response_and_customer_message_starts_next(world, policy, clock):
    ticket = make_ticket(world.customer, world.technical)
    clock(berlin(2026, 11, 23, 10, 30))
    services.ticket_reply(ticket=ticket, author=world.tech_agent, body_text="Looking", status=Status.OPEN)
    fresh(ticket)
    assert ticket.first_response_due_at is None and ticket.next_response_due_at is None
    assert ticket.sla_warn_at is None or ticket.sla_warn_at > berlin(2026, 11, 23, 10, 48)

    clock(berlin(2026, 11, 23, 17, 0))
    services.ticket_customer_message(ticket=ticket, author=world.customer, body_text="Still broken")
    fresh(ticket)
    assert ticket.next_response_due_at == berlin(2026, 11, 24, 10, 0)  # 1 h today, 1 h tomorrow
    # The resolution target (18:00 today) comes first; its 80% point (16:24) has passed: warn at once.
    assert ticket.resolution_due_at == berlin(2026, 11, 23, 18, 0)
    assert ticket.sla_warn_at == ticket.sla_check_at == berlin(2026, 11, 23, 16, 24)


def test_pending_customer_pauses_the_resolution_clock(world, policy, clock):
    ticket = make_ticket(world.customer, world.technical)  # Monday 10:00, resolution due 18:00
    clock(berlin(2026, 11, 23, 12, 0))
    services.ticket_reply(ticket=ticket, author=world.tech_agent, body_text="Send logs?")  # -> pending
    fresh(ticket)
    assert ticket.status == Status.PENDING
    assert ticket.resolution_due_at is None and ticket.sla_check_at is None
    assert ticket.sla_elapsed == 2 * 3600

    # Two days later the customer answers: 6 business hours are left, counted from now.
    clock(berlin(2026, 11, 25, 14, 0))
    services.ticket_customer_message(ticket=ticket, author=world.customer, body_text="Here are the logs")
    fresh(ticket)
    assert ticket.status == Status.OPEN
    assert ticket.resolution_due_at == berlin(2026, 11, 26, 11, 0)  # 4 h on Wednesday, 2 h Thursday
    assert ticket.next_response_due_at == berlin(2026, 11, 25, 16, 0)


def test_resolving_clears_and_reopening_continues(world, policy, clock):
    ticket = make_ticket(world.customer, world.technical)
    clock(berlin(2026, 11, 23, 11, 0))
    services.ticket_set_status(ticket=ticket, actor=world.tech_agent, status=Status.RESOLVED)
    fresh(ticket)
    assert (ticket.first_response_due_at, ticket.resolution_due_at, ticket.sla_check_at) == (None, None, None)
    clock(berlin(2026, 11, 24, 9, 0))
    services.ticket_customer_message(ticket=ticket, author=world.customer, body_text="It broke again")
    fresh(ticket)
    assert ticket.resolution_due_at == berlin(2026, 11, 24, 16, 0)  # 7 of 8 hours left


def test_transfer_applies_the_new_departments_policy(world, policy, clock):
    BusinessHours.objects.create(
        department=world.sales, time_zone="Europe/Moscow", schedule={str(d): [[600, 1140]] for d in range(7)}
    )
    SlaPolicy.objects.create(department=world.sales, first_response_minutes=30, business_hours=True)
    ticket = make_ticket(world.customer, world.technical)
    clock(berlin(2026, 11, 23, 10, 5))
    services.ticket_transfer(ticket=ticket, actor=world.tech_agent, department=world.sales)
    fresh(ticket)
    # Sales opens 10:00 Moscow = 08:00 Berlin: 30 minutes from creation (10:00 Berlin).
    assert ticket.first_response_due_at == berlin(2026, 11, 23, 10, 30)
    assert ticket.resolution_due_at is None  # Sales has no resolution target

    services.ticket_transfer(ticket=ticket, actor=world.sales_agent, department=world.triage)
    fresh(ticket)
    assert (ticket.first_response_due_at, ticket.sla_check_at) == (None, None)  # Triage has no policy


def test_priority_change_applies_the_priority_policy(world, policy, clock):
    SlaPolicy.objects.create(
        department=world.technical, priority=Priority.URGENT, first_response_minutes=15, business_hours=False
    )
    ticket = make_ticket(world.customer, world.technical)
    assert fresh(ticket).first_response_due_at == berlin(2026, 11, 23, 11, 0)
    clock(berlin(2026, 11, 23, 10, 5))
    services.ticket_set_priority(ticket=ticket, actor=world.tech_agent, priority=Priority.URGENT)
    fresh(ticket)
    assert ticket.first_response_due_at == berlin(2026, 11, 23, 10, 15)
    assert ticket.resolution_due_at is None
    assert ticket.sla_warn_at == berlin(2026, 11, 23, 10, 12)
    services.ticket_set_priority(ticket=ticket, actor=world.tech_agent, priority=Priority.LOW)
    assert fresh(ticket).first_response_due_at == berlin(2026, 11, 23, 11, 0)


def test_calendar_for_department(world, office_hours):
    calendar = calendar_for(world.technical.pk)
    assert business_minutes_between(berlin(2026, 11, 23, 8, 0), berlin(2026, 11, 24, 10, 0), calendar) == 600
    assert calendar_for(world.sales.pk) is None


def test_merge_stops_the_source_clock(world, policy, clock):
    a = make_ticket(world.customer, world.technical)
    b = make_ticket(world.customer, world.technical)
    services.ticket_merge(source=a, target=b, actor=world.tech_agent)
    assert fresh(a).sla_check_at is None and a.first_response_due_at is None
    assert fresh(b).first_response_due_at == MONDAY_10 + timedelta(hours=1)


def test_creation_writes_the_clocks_in_the_ticket_insert(world, policy, clock):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        ticket = make_ticket(world.customer, world.technical, acknowledge=False)
    assert not [q for q in queries if q["sql"].startswith('UPDATE "tickets_ticket"')]
    ticket = fresh(ticket)
    assert ticket.first_response_due_at == berlin(2026, 11, 23, 11, 0)
    assert ticket.created_at == ticket.waiting_since == ticket.sla_resumed_at == ticket.updated_at
