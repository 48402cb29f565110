"""Deleting an account: PostgreSQL's check of each deleted user's references from tickets (first
responder, resolved by: foreign keys without an index of their own) must find them by index, not by
reading the whole ticket table once per deleted user (a minute for a hundred accounts at 1M tickets)."""

import pytest
from django.db import connection

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("column", "index"),
    [("first_responder_id", "ticket_first_responder_idx"), ("resolved_by_id", "ticket_resolved_by_idx")],
)
def test_the_reference_check_of_a_deleted_user_can_use_an_index(column, index):
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL's plans")
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # the test table is tiny: ask whether an index fits
        # The statement PostgreSQL's referential integrity check runs for each deleted user.
        cursor.execute(
            f"EXPLAIN SELECT 1 FROM ONLY tickets_ticket x WHERE {column} = %s FOR KEY SHARE OF x", [1]
        )
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert index in plan, plan
