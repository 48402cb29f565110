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


def _inbound(key: str):
    from mailgateway.models import InboundEmail

    return InboundEmail(dedupe_key=key, raw=key.encode(), size=len(key), source="pipe")


def test_update_rows_writes_each_row_its_own_values(world):
    from mailgateway.models import InboundEmail

    rows = [_inbound(f"u-{i}") for i in range(3)]
    rowsql.insert_many_unless_exist(rows, "dedupe_key")
    when = datetime(2026, 5, 1, 12, 30, tzinfo=UTC)
    for i, row in enumerate(rows):
        row.status, row.subject, row.attempts = "processed", f"Тема {i}", i + 1
        row.attachments = [f"file{i}.pdf"] if i else []
        row.department = world.technical if i == 1 else None
        row.processed_at = when if i == 2 else None
    rowsql.update_rows(rows, ["status", "subject", "attempts", "attachments", "department", "processed_at"])
    stored = InboundEmail.objects.filter(pk__in=[r.pk for r in rows]).order_by("pk")
    assert [(r.status, r.subject, r.attempts, r.attachments, r.department_id, r.processed_at) for r in stored] == [
        ("processed", "Тема 0", 1, [], None, None),
        ("processed", "Тема 1", 2, ["file1.pdf"], world.technical.pk, None),
        ("processed", "Тема 2", 3, ["file2.pdf"], None, when),
    ]
    assert bytes(stored[0].raw) == b"u-0"  # columns not named are left alone


@pytest.mark.skipif(connection.vendor != "postgresql", reason="pipeline mode and the kept cursor are PostgreSQL's")
def test_writes_share_one_cursor_in_and_out_of_a_pipeline(world):
    events = [TicketEvent(ticket=None, kind="note", data={"i": i}) for i in range(3)]
    ticket = Ticket.objects.create(subject="s", customer=world.customer, department=world.technical, number=990_001)
    with rowsql.pipelined(3, models=[TicketEvent]):
        for event in events:
            event.ticket = ticket
            rowsql.insert_row(event)  # sent, not waited for
        fresh = _inbound("p-1")
        assert rowsql.insert_unless_exists(fresh, "dedupe_key") is True  # waits: its own RETURNING row
        assert rowsql.insert_unless_exists(_inbound("p-1"), "dedupe_key") is False
    assert sorted(TicketEvent.objects.filter(ticket=ticket).values_list("data", flat=True), key=str) == [
        {"i": 0},
        {"i": 1},
        {"i": 2},
    ]
    assert fresh.pk is not None


@pytest.mark.django_db(transaction=True)
def test_a_new_connection_gets_a_new_cursor():
    from mailgateway.models import InboundEmail

    assert rowsql.insert_unless_exists(_inbound("r-1"), "dedupe_key") is True
    connection.close()  # as Celery's and Django's connection handling do between tasks and requests
    assert rowsql.insert_unless_exists(_inbound("r-2"), "dedupe_key") is True
    assert set(InboundEmail.objects.values_list("dedupe_key", flat=True)) >= {"r-1", "r-2"}
