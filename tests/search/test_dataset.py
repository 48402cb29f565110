"""generate_dataset fills the search vectors in bulk (triggers off during the load, back on after)."""

import io

import pytest
from django.core.management import call_command
from django.db import connection

from search.filters import parse_filters
from search.selectors import search_tickets
from tests.factories import AgentFactory, UserFactory, member
from tickets import services
from tickets.models import Ticket

pytestmark = pytest.mark.django_db(transaction=True)


def test_generated_tickets_are_searchable_and_triggers_are_back():
    call_command("generate_dataset", tickets=300, batch=120, stdout=io.StringIO())
    with connection.cursor() as c:
        c.execute(
            """SELECT count(*) FROM tickets_ticket t LEFT JOIN search_ticketvector v ON v.ticket_id = t.id
               WHERE v.public IS NULL
                  OR (v.department_id, v.created_at, v.updated_at, v.active) IS DISTINCT FROM
                     (t.department_id, t.created_at, t.updated_at, t.status IN ('new', 'open', 'pending'))"""
        )
        assert c.fetchone()[0] == 0
        c.execute("SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'helpdesk_%%search%%' AND tgenabled = 'O'")
        assert c.fetchone()[0] == 5
        # Every index dropped for the load is back and valid, on the partitioned search table's
        # partitions too (rebuilt "ON ONLY" the parent, they were invalid and absent from the partitions).
        c.execute(
            """SELECT count(*) FILTER (WHERE NOT i.indisvalid), count(*) FROM pg_index i
               JOIN pg_class t ON t.oid = i.indrelid WHERE t.relname LIKE 'search_ticketvector%%'"""
        )
        invalid, total = c.fetchone()
        c.execute("SELECT count(*) FROM pg_inherits WHERE inhparent = 'search_ticketvector'::regclass")
        partitions = c.fetchone()[0]
        c.execute("SELECT count(*) FROM pg_index WHERE indrelid = 'search_ticketvector'::regclass")
        assert invalid == 0 and total == c.fetchone()[0] * (partitions + 1)
        # The bulk fill gives the same vectors as the triggers' own recomputation.
        c.execute("CREATE TEMP TABLE before AS SELECT ticket_id, public, notes FROM search_ticketvector")
        c.execute("SELECT helpdesk_ticket_search_refresh(id) FROM tickets_ticket")
        c.execute(
            """SELECT count(*) FROM search_ticketvector v JOIN before b USING (ticket_id)
               WHERE v.public IS DISTINCT FROM b.public OR v.notes IS DISTINCT FROM b.notes"""
        )
        assert c.fetchone()[0] == 0
    admin = UserFactory(is_superuser=True, is_agent=True)
    assert search_tickets(user=admin, filters=parse_filters({"q": "серверы"})).exists()
    # and new messages are indexed again
    ticket = Ticket.objects.order_by("pk").first()
    agent = member(AgentFactory(), ticket.department)
    services.ticket_reply(ticket=ticket, author=agent, body_text="уникальноеслово")
    assert list(search_tickets(user=admin, filters=parse_filters({"q": "уникальноеслово"}))) == [ticket]
