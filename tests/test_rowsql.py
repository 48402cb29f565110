"""helpdesk_site.rowsql: the hand-composed writes must store exactly what save() would."""

from datetime import UTC, datetime

import pytest
from django.db import connection

from helpdesk_site import rowsql
from tickets.choices import Channel
from tickets.models import Message, Ticket, TicketEvent

pytestmark = pytest.mark.django_db


def test_prepared_values_are_what_django_would_send(world):
    fields = [Ticket._meta.get_field(n) for n in ("subject", "priority", "customer", "created_at", "channel")]
    fields += [TicketEvent._meta.get_field("data"), Message._meta.get_field("cc")]
    aware = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    values = ["Привет", 3, world.customer.pk, aware, Channel.EMAIL, {"a": 1}, None]
    prepared = rowsql._prepared(fields, values, connection)
    django = [f.get_db_prep_save(v, connection) for f, v in zip(fields, values, strict=True)]
    for mine, theirs in zip(prepared, django, strict=True):
        # Django wraps ints in psycopg's IntN and JSON in Jsonb: the value inside is the same.
        assert getattr(mine, "obj", mine) == getattr(theirs, "obj", theirs)
    if connection.vendor == "postgresql":
        assert prepared[0] is values[0] and prepared[3] is aware  # passed through as they are


def test_a_ticket_written_by_insert_row_reads_back_as_saved(world):
    ticket = Ticket(
        subject="Ёлка не горит",
        customer=world.customer,
        department=world.technical,
        priority=2,
        channel=Channel.EMAIL,
        fields={"server": "srv-1"},
        created_at=datetime(2026, 5, 1, tzinfo=UTC),
        updated_at=datetime(2026, 5, 1, tzinfo=UTC),
    )
    if connection.vendor == "postgresql":
        rowsql.insert_row(ticket, computed={"number": "nextval('tickets_ticket_number_seq')"})
    else:
        ticket.number = 999_001
        rowsql.insert_row(ticket)
    again = Ticket.objects.get(pk=ticket.pk)
    assert (again.subject, again.priority, again.channel, again.fields) == (
        "Ёлка не горит",
        2,
        "email",
        {"server": "srv-1"},
    )
    assert again.created_at == datetime(2026, 5, 1, tzinfo=UTC) and again.customer == world.customer


def test_insert_many_unless_exist_inserts_each_new_key_once():
    from mailgateway.models import InboundEmail

    def row(key: str) -> InboundEmail:
        return InboundEmail(dedupe_key=key, raw=key.encode(), size=len(key), source="pipe")

    existing = row("k-old")
    assert rowsql.insert_unless_exists(existing, "dedupe_key")
    rows = [row("k-1"), row("k-old"), row("k-2"), row("k-1")]
    assert rowsql.insert_many_unless_exist(rows, "dedupe_key") == [True, False, True, False]
    assert rows[0].pk and rows[2].pk and rows[1].pk is None and rows[3].pk is None
    stored = dict(InboundEmail.objects.values_list("dedupe_key", "pk"))
    assert stored == {"k-old": existing.pk, "k-1": rows[0].pk, "k-2": rows[2].pk}
    assert bytes(InboundEmail.objects.get(pk=rows[2].pk).raw) == b"k-2"
    assert rowsql.insert_many_unless_exist([], "dedupe_key") == []
