"""sla_clock, the sweep's trigger-kept copy of Ticket.sla_check_at (sla.sql): it follows every change of the
ticket column, and the ticket table keeps no index on that column (so the sweep's UPDATE can be HOT)."""

from django.db import connection

from sla import services as sla
from sla.models import Clock
from tests.factories import make_ticket
from tickets import services
from tickets.models import Ticket

from .conftest import berlin


def _clocks() -> dict[int, object]:
    return dict(Clock.objects.values_list("ticket_id", "check_at"))


def test_the_clock_follows_the_tickets_next_check(world, policy, clock):
    clock(berlin(2026, 11, 23, 10, 0))
    ticket = make_ticket(world.customer, world.technical, acknowledge=False)
    other = make_ticket(world.customer, world.technical, acknowledge=False)
    ticket.refresh_from_db()
    assert ticket.sla_check_at is not None
    assert _clocks() == {ticket.pk: ticket.sla_check_at, other.pk: other.sla_check_at}

    first_check = ticket.sla_check_at
    services.ticket_reply(ticket=ticket, author=world.tech_agent, body_text="On it.")
    clock(berlin(2026, 11, 23, 10, 30))
    services.ticket_customer_message(ticket=ticket, author=world.customer, body_text="Still down.")
    ticket.refresh_from_db()  # the next-response clock runs now: the next check moved
    assert ticket.sla_check_at not in (None, first_check)
    assert _clocks()[ticket.pk] == ticket.sla_check_at

    services.ticket_close(ticket=ticket, actor=world.tech_agent)  # no clock runs: the row goes
    ticket.refresh_from_db()
    assert ticket.sla_check_at is None and ticket.pk not in _clocks()

    Ticket.objects.filter(pk=other.pk).delete()  # the database deletes the clock with its ticket
    assert _clocks() == {}


def test_the_sweep_finds_due_tickets_through_the_clock(world, policy, clock):
    clock(berlin(2026, 11, 23, 10, 0))
    ticket = make_ticket(world.customer, world.technical, acknowledge=False)
    clock(berlin(2026, 11, 24, 10, 0))  # first response long overdue
    assert sla.sweep() == 1
    ticket.refresh_from_db()
    assert ticket.escalation_level == 1 and _clocks().get(ticket.pk) == ticket.sla_check_at


def test_no_index_of_the_ticket_table_covers_the_next_check(db):
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'tickets_ticket'")
        assert [name for name, definition in cursor.fetchall() if "sla_check_at" in definition] == []
