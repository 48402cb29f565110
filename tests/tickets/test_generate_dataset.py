import io

import pytest
from django.core.management import call_command
from django.db import connection

from tickets.models import Attachment, Message, Rating, Ticket


@pytest.mark.django_db(transaction=True)
def test_generate_dataset_builds_a_realistic_dataset_and_restores_indexes():
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only")
    with connection.cursor() as c:
        c.execute("SELECT count(*) FROM pg_indexes WHERE tablename = 'tickets_message'")
        indexes_before = c.fetchone()[0]
    call_command("generate_dataset", tickets=500, batch=200, stdout=io.StringIO())
    assert Ticket.objects.count() == 500
    assert Ticket.objects.values("department").distinct().count() == 20
    per_ticket = Message.objects.count() / 500
    assert 4 <= per_ticket <= 6
    kinds = set(Message.objects.values_list("kind", flat=True).distinct())
    assert kinds == {"customer", "reply", "note"}
    assert Ticket.objects.filter(subject__regex=r"[а-я]").exists() and Ticket.objects.filter(subject__regex=r"^[a-z ]+$").exists()
    assert Attachment.objects.exists()
    # Report figures (reports app) are filled like the services would.
    answered = Ticket.objects.exclude(status="new")
    assert not answered.filter(first_response_seconds__isnull=True).exists()
    assert not Ticket.objects.filter(resolved_at__isnull=False, resolution_seconds__isnull=True).exists()
    assert not Message.objects.filter(kind="reply", department__isnull=True).exists()
    assert Rating.objects.filter(score=5).count() > Rating.objects.filter(score=1).count() > 0
    assert set(Ticket.objects.values_list("status", flat=True)) >= {"new", "open", "pending", "resolved", "closed"}
    with connection.cursor() as c:
        c.execute("SELECT count(*) FROM pg_indexes WHERE tablename = 'tickets_message'")
        assert c.fetchone()[0] == indexes_before
    # New tickets created afterwards get numbers after the generated ones.
    from tests.factories import DepartmentFactory, UserFactory, make_ticket

    ticket = make_ticket(UserFactory(), DepartmentFactory())
    assert ticket.number > 10500
