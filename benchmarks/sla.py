"""The SLA sweep with 1,000,000 open tickets of which 1,000 are due (PostgreSQL).

    DATABASE_URL=postgres://... python -m benchmarks.sla

`run()` is what `make bench` calls. The bench dataset (generate_dataset) has about 27% open tickets; when
there are fewer than 1,000,000 open tickets, the missing ones are added once with a single
INSERT ... SELECT generate_series into a department of their own ("bench-sla", no members, so no queue
page or search of the other benchmarks sees them), subject "bench: sla filler". It is idempotent: a
second run finds the million and adds nothing (benchmarks/run.py ignores "bench:%" rows when it checks
the dataset size, so they do not force a rebuild).

The measurement itself runs in a transaction that is rolled back: every due row is pushed out, exactly
1,000 open tickets are made due (breached first-response target, not yet escalated), then
- claim_ms: the sweep's claim query for all 1,000 (FOR UPDATE SKIP LOCKED on the partial index
  ticket_sla_check_idx), median of 5; the number the < 100 ms target is about;
- idle_sweep_ms: a complete sweep when nothing is due (the cost of every quiet minute);
- sweep_1000_ms: a complete sweep escalating the 1,000 (events, rendered mails to the managers as outbox
  rows; nothing is sent, the transaction is rolled back).
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time

TARGET_OPEN = int(os.environ.get("BENCH_SLA_OPEN_TICKETS", "1000000"))
DUE = 1000
FILLER_SUBJECT = "bench: sla filler"


def _setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk_site.settings")
    import django
    from django.apps import apps

    if not apps.ready:
        django.setup()


class _Rollback(Exception):
    pass


def ensure_open_tickets(target: int) -> int:
    """Top the open tickets up to `target` with one INSERT ... SELECT; returns how many were added."""
    from django.db import connection, transaction

    from accounts.models import User
    from departments.models import Department
    from tickets.models import Ticket

    missing = target - Ticket.objects.filter(status__in=("new", "open", "pending")).count()
    if missing <= 0:
        return 0
    with transaction.atomic():
        dept, _ = Department.objects.get_or_create(
            slug="bench-sla", defaults={"name": "SLA bench", "from_email": "sla@bench.example", "customer_selectable": False}
        )
        customer = User.objects.filter(is_agent=False).order_by("pk").first() or User.objects.create(
            email="sla-customer@bench.example", display_name="SLA bench customer"
        )
        with connection.cursor() as c:
            c.execute("SELECT COALESCE(MAX(number), 0) FROM tickets_ticket WHERE number >= 5000000000")
            base = max(5_000_000_000, c.fetchone()[0])  # far above the number sequence: never collides
            # Open, first response due some hours or days ahead: nothing for the sweep to do.
            c.execute(
                """INSERT INTO tickets_ticket (number, subject, customer_id, department_id, status, priority, fields,
                       channel, created_at, updated_at, waiting_since, first_response_due_at, resolution_due_at,
                       escalation_level, sla_check_at, sla_warn_at, sla_resumed_at, sla_elapsed)
                   SELECT %s + g, %s, %s, %s, 'open', 2, '{}'::jsonb, 'web', now(), now(), now(),
                          now() + (60 + g %% 10000) * interval '1 minute', now() + interval '3 days', 0,
                          now() + (48 + g %% 10000) * interval '1 minute',
                          now() + (48 + g %% 10000) * interval '1 minute', now(), 0
                   FROM generate_series(1, %s) g""",
                [base, FILLER_SUBJECT, customer.pk, dept.pk, missing],
            )
            c.execute("ANALYZE tickets_ticket")
    return missing


def _make_exactly_due(now) -> None:
    from django.db import connection

    with connection.cursor() as c:
        c.execute("UPDATE tickets_ticket SET sla_check_at = %s + interval '1 day' WHERE sla_check_at <= %s", [now, now])
        # Prefer tickets of the generated departments: they have managers, so escalation mails are rendered.
        c.execute(
            """UPDATE tickets_ticket SET first_response_due_at = %s - interval '1 minute',
                   sla_check_at = %s - interval '1 minute', sla_warn_at = NULL, escalated_at = NULL,
                   escalation_level = 0
               WHERE id IN (SELECT id FROM tickets_ticket WHERE status IN ('new', 'open')
                            ORDER BY (subject = %s), id LIMIT %s)""",
            [now, now, FILLER_SUBJECT, DUE],
        )


def _claim_ms(now) -> tuple[float, int, bool]:
    from django.db import connection, transaction

    from sla.services import due_for_sweep

    times, count = [], 0
    for _ in range(5):
        with transaction.atomic():  # a savepoint: the locks go with it
            started = time.perf_counter()
            count = len(list(due_for_sweep(now, DUE).values_list("pk", flat=True)))
            times.append((time.perf_counter() - started) * 1000)
    with connection.cursor() as c:
        sql, params = due_for_sweep(now, DUE).values_list("pk", flat=True).query.sql_with_params()
        c.execute("EXPLAIN " + sql, params)
        plan = "\n".join(r[0] for r in c.fetchall())
    return statistics.median(times), count, "ticket_sla_check_idx" in plan


def run() -> dict:
    _setup_django()
    from django.db import transaction
    from django.utils import timezone

    from sla.services import sweep
    from tickets.models import Ticket

    started = time.perf_counter()
    added = ensure_open_tickets(TARGET_OPEN)
    setup_s = time.perf_counter() - started
    result: dict = {}
    try:
        with transaction.atomic():
            now = timezone.now()
            _make_exactly_due(now)
            result["open_tickets"] = Ticket.objects.filter(status__in=("new", "open", "pending")).count()
            claim_ms, claimed, uses_index = _claim_ms(now)
            t0 = time.perf_counter()
            swept = sweep(now)
            sweep_ms = (time.perf_counter() - t0) * 1000
            t0 = time.perf_counter()
            idle = sweep(now)
            idle_ms = (time.perf_counter() - t0) * 1000
            result.update(
                due=claimed,
                claim_ms=round(claim_ms, 2),
                claim_uses_partial_index=uses_index,
                sweep_1000_ms=round(sweep_ms, 1),
                sweep_per_ticket_ms=round(sweep_ms / max(swept, 1), 2),
                swept=swept,
                idle_sweep_ms=round(idle_ms, 2),
                idle_swept=idle,
                target_ms=100,
                filler_added=added,
                setup_s=round(setup_s, 1),
            )
            raise _Rollback
    except _Rollback:
        pass
    return result


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    print(json.dumps(run(), indent=2))
