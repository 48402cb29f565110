"""search_ticketvector (search.models.TicketVector): one row per ticket, its copies of department and
dates follow the ticket, updates that change none of them leave it alone, and the common searches read
it without touching tickets_ticket."""

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from search.filters import parse_filters
from search.models import TicketVector
from search.selectors import CappedResults, search_matches, search_tickets
from tests.factories import make_ticket
from tickets import services
from tickets.models import Ticket


def _row(ticket) -> tuple:
    with connection.cursor() as c:
        c.execute(
            "SELECT xmin::text, department_id, created_at, updated_at, active FROM search_ticketvector"
            " WHERE ticket_id = %s",
            [ticket.pk],
        )
        return c.fetchone()


def test_row_follows_the_ticket(world):
    ticket = make_ticket(world.customer, world.technical, subject="Printer on fire")
    ticket.refresh_from_db()
    assert _row(ticket)[1:] == (world.technical.pk, ticket.created_at, ticket.updated_at, True)
    services.ticket_transfer(ticket=ticket, actor=world.tech_agent, department=world.sales)
    ticket.refresh_from_db()
    assert _row(ticket)[1:] == (world.sales.pk, ticket.created_at, ticket.updated_at, True)
    services.ticket_close(ticket=ticket, actor=world.sales_agent)
    ticket.refresh_from_db()
    assert _row(ticket)[1:] == (world.sales.pk, ticket.created_at, ticket.updated_at, False)
    Ticket.objects.filter(pk=ticket.pk).update(created_at=ticket.created_at - timedelta(days=3), status="open")
    assert _row(ticket)[2:] == (ticket.created_at - timedelta(days=3), ticket.updated_at, True)
    ticket.delete()
    assert not TicketVector.objects.filter(ticket_id=ticket.pk).exists()


def test_updates_of_other_columns_do_not_write_the_row(world):
    """The SLA sweep's UPDATE (and any other leaving subject, department and dates alone) costs nothing here."""
    ticket = make_ticket(world.customer, world.technical)
    before = _row(ticket)
    Ticket.objects.filter(pk=ticket.pk).update(sla_check_at=timezone.now(), escalation_level=2)
    ticket.refresh_from_db()
    ticket.save()  # every column set, none changed
    assert _row(ticket) == before


@pytest.fixture
def servers(world):
    old = make_ticket(world.customer, world.technical, subject="Old server", body="server down")
    services.ticket_close(ticket=old, actor=world.tech_agent)
    Ticket.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=400))
    new = make_ticket(world.customer, world.technical, subject="New server", body="server server down")
    noted = make_ticket(world.customer, world.technical, subject="Quiet")
    services.ticket_note(ticket=noted, author=world.tech_agent, body_text="the server again")
    make_ticket(world.customer, world.sales, subject="Sales server", body="server")
    return old, new, noted


def _sql(qs) -> str:
    return str(qs.query)


@pytest.mark.parametrize(
    "params",
    [
        {"q": "server"},
        {"q": "server", "department": "technical"},
        {"q": "server", "created_after": (timezone.now() - timedelta(days=30)).date().isoformat()},
        {"q": "server", "sort": "newest"},
        {"q": "server", "sort": "activity", "updated_after": "2020-01-01"},
        {"q": "server down"},
        {"q": "server", "status": "active"},
    ],
)
def test_text_with_department_and_dates_is_answered_by_the_vector_table(world, servers, params):
    filters = parse_filters(params)
    matches = search_matches(user=world.tech_agent, filters=filters)
    assert matches.model is TicketVector and "tickets_ticket" not in _sql(matches)
    expected = [t.pk for t in search_tickets(user=world.tech_agent, filters=filters)]
    assert expected and list(matches.values_list("pk", flat=True)) == expected
    assert [t.pk for t in CappedResults(matches)[0:25]] == expected


def test_other_filters_and_customers_use_the_ticket_table(world, servers):
    for params in ({"q": "server", "status": "new"}, {"q": "server", "subject_only": "on"}, {"status": "active"}):
        assert search_matches(user=world.tech_agent, filters=parse_filters(params)).model is Ticket
    found = search_matches(user=world.customer, filters=parse_filters({"q": "server"}))
    assert found.model is Ticket
    assert {t.subject for t in found} == {"Old server", "New server", "Sales server"}  # never the note


def test_transferred_ticket_is_found_in_its_new_department(world, servers):
    _, new, _ = servers
    services.ticket_transfer(ticket=new, actor=world.tech_agent, department=world.sales)
    filters = parse_filters({"q": "server", "department": "technical"})
    assert new.pk not in search_matches(user=world.tech_agent, filters=filters).values_list("pk", flat=True)
    filters = parse_filters({"q": "server", "department": "sales"})
    assert new.pk in search_matches(user=world.sales_agent, filters=filters).values_list("pk", flat=True)


def test_a_department_search_reads_one_partition_and_a_transfer_moves_the_row(world, servers):
    from search import sql

    with connection.cursor() as c:
        c.execute("SELECT count(*) FROM pg_inherits WHERE inhparent = %s::regclass", [sql.TABLE])
        assert c.fetchone()[0] == sql.PARTITIONS
        qs = search_matches(user=world.tech_agent, filters=parse_filters({"q": "server", "department": "technical"}))
        query, params = qs.values_list("pk", flat=True).query.sql_with_params()
        c.execute("EXPLAIN " + query, params)
        plan = "\n".join(row[0] for row in c.fetchall())
    partitions = {word for word in plan.replace("(", " ").split() if word.startswith(f"{sql.TABLE}_p")}
    assert len(partitions) == 1, plan
    _, new, _ = servers
    services.ticket_transfer(ticket=new, actor=world.tech_agent, department=world.sales)
    assert list(TicketVector.objects.filter(ticket_id=new.pk).values_list("department_id", flat=True)) == [world.sales.pk]
