"""`make bench`'s ingestion benchmark runs end to end (tiny counts; the figures themselves are never
asserted: timing belongs to benchmarks/, not to tests)."""

import pytest
from django.db import connection

from benchmarks import ingest
from mailgateway.models import InboundEmail
from tickets.models import Ticket

pytestmark = pytest.mark.django_db


def test_ingestion_benchmark_stores_processes_and_cleans_up():
    if connection.vendor != "postgresql":
        pytest.skip("the benchmark reads PostgreSQL's backend CPU")
    result = ingest.run(count=6, warmup=2, batch=3)
    for run in ("one_per_transaction", "batched", "batched_stored_one_by_one"):
        assert result[run]["messages_per_second_per_process"] > 0
        assert result[run]["processing_only_messages_per_second"] > 0
    assert result["batched"]["stored"].startswith("in one commit per batch")
    assert sum(result["actions"].values()) == 3 * 8  # every mail of the three runs, warm-up included
    assert set(result["actions"]) <= {"created", "appended"}
    # Nothing of the benchmark is left behind.
    assert not InboundEmail.objects.filter(source__startswith="bench:").exists()
    assert not Ticket.objects.filter(department__slug__startswith="bench-").exists()
