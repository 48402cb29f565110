"""The statistics page: one department over a year, as its manager sees it (issue 11: p95 < 500 ms at
1,000,000 tickets).

`make bench` (benchmarks/run.py) measures it over HTTP under gunicorn with a *manager's* session:
prepare_manager() picks the manager and department, paths() gives the URLs. `run()` (the in-process part
run.py calls after the HTTP runs) times the report computation itself, without HTTP and templates, and
reports the SQL queries it takes:

    DATABASE_URL=postgres://... python -m benchmarks.reports
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time

ROUNDS = int(os.environ.get("BENCH_REPORT_ROUNDS", "10"))


def _setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk_site.settings")
    import django
    from django.apps import apps

    if not apps.ready:
        django.setup()


def manager_and_department():
    """An active manager and the department of his with the most tickets."""
    from django.db.models import Count

    from departments.models import Department, Membership

    membership = (
        Membership.objects.filter(role=Membership.Role.MANAGER, user__is_active=True, user__is_agent=True)
        .select_related("user")
        .order_by("user_id")
        .first()
    )
    if membership is None:
        raise RuntimeError("no active manager in the dataset")
    department = (
        Department.objects.filter(memberships__user=membership.user, memberships__role=Membership.Role.MANAGER)
        .annotate(n=Count("tickets"))
        .order_by("-n")
        .first()
    )
    return membership.user, department


def prepare_manager(ctx: dict) -> dict:
    """Adds the manager's session cookie and department to run.py's context (Django is set up there)."""
    from django.test import Client

    manager, department = manager_and_department()
    client = Client()
    client.force_login(manager)
    return {**ctx, "manager_cookie": f"sessionid={client.cookies['sessionid'].value}",
            "manager_department": department.slug}


def paths(ctx: dict) -> list[str]:
    from django.urls import reverse

    return [reverse("reports_index") + f"?department={ctx['manager_department']}&period=365d"]


def run() -> dict:
    """Report computation for one department over a year, in process: median/p95 ms and queries."""
    _setup_django()
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from reports.periods import period_from
    from reports.selectors import department_report

    _manager, department = manager_and_department()
    period = period_from({"period": "365d"})
    department_report([department], period)  # warm-up
    times = []
    for _ in range(ROUNDS):
        started = time.perf_counter()
        with CaptureQueriesContext(connection) as queries:
            report = department_report([department], period)
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return {
        "department": department.slug,
        "tickets_created_in_year": report.totals.get("created", 0),
        "compute_median_ms": round(statistics.median(times), 1),
        "compute_p95_ms": round(times[min(len(times) - 1, int(len(times) * 0.95))], 1),
        "queries": len(queries),
    }


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    print(json.dumps(run(), indent=2))
