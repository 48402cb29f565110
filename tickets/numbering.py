"""Human ticket reference numbers (#10234).

On PostgreSQL a real sequence hands them out: concurrent creators never collide or wait on each other,
and a rolled-back creation just leaves a gap, which is fine for a reference number. SQLite serialises
writers anyway (IMMEDIATE transactions), so a counter row is race-free there.
"""

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F

SEQUENCE = "tickets_ticket_number_seq"
NEXT_NUMBER_SQL = f"nextval('{SEQUENCE}')"  # for an INSERT that numbers the ticket itself (ticket_create)


def next_ticket_number() -> int:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT nextval(%s)", [SEQUENCE])
            return cursor.fetchone()[0]
    return _next_from_counter()


def _next_from_counter() -> int:
    from .models import TicketNumberCounter

    with transaction.atomic():
        if not TicketNumberCounter.objects.filter(pk=1).update(value=F("value") + 1):
            TicketNumberCounter.objects.create(pk=1, value=settings.HELPDESK_TICKET_NUMBER_START)
        return TicketNumberCounter.objects.values_list("value", flat=True).get(pk=1)
