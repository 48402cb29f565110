"""Search and workspaces at scale (PostgreSQL full-text search, issue 7).

`make bench` (benchmarks/run.py) measures over HTTP, under gunicorn, with a logged-in agent of one
department (see scenarios()):
- search_rare: a word in about 0.001% of messages ("quasar", generate_dataset plants it);
- search_common: a word in about 1% of messages ("kubernetes"), sorted by relevance;
- search_filtered: text plus department and date filters;
- workspace: a saved workspace opened from the sidebar (text + status filter), sidebar counts included.
`run()` (called by run.py's in-process step) times the selectors directly, without HTTP: the same
searches (count + first page + snippets) and the sidebar's count query with WORKSPACES workspaces.

Standalone, the HTTP part only: `BENCH_TICKETS=20000 python -m benchmarks.search`.
"""

from __future__ import annotations

import os
import statistics
import sys
import time

WORKSPACES = 8
REPEAT = int(os.environ.get("BENCH_SEARCH_REPEAT", "20"))
BENCH_WORKSPACE = "bench: open kubernetes"


def _setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk_site.settings")
    import django
    from django.apps import apps

    if not apps.ready:
        django.setup()


def queries(department: str) -> dict[str, dict]:
    return {
        "search_rare": {"q": "quasar"},
        "search_common": {"q": "kubernetes"},
        "search_filtered": {"q": "server", "department": department, "created_after": "2026-01-01"},
    }


def workspace_filters(department: str) -> list[tuple[str, dict]]:
    """The bench agent's sidebar: one opened over HTTP, the others only counted."""
    return [
        (BENCH_WORKSPACE, {"q": "kubernetes", "status": "active"}),
        ("bench: unassigned", {"assignee": "none", "status": "active"}),
        ("bench: mine", {"assignee": "me", "status": "active"}),
        ("bench: escalated", {"escalated": "on", "status": "active"}),
        ("bench: department closed", {"department": department, "status": "closed"}),
        ("bench: пароль", {"q": "пароль", "status": "pending"}),
        ("bench: attachments", {"has_attachments": "on", "status": "new"}),
        ("bench: recent server", {"q": "server", "updated_after": "2026-11-01"}),
    ][:WORKSPACES]


def prepare(agent, department_slug: str) -> dict:
    """The bench agent's workspaces (created once, through the service); returns the one to open."""
    from search import services
    from search.models import SavedSearch

    first = None
    for name, filters in workspace_filters(department_slug):
        ws = SavedSearch.objects.filter(owner=agent, name=name).first()
        if ws is None:
            ws = services.workspace_create(owner=agent, name=name, filters=filters)
        first = first or ws
    return {"workspace": first.pk}


def scenarios(ctx: dict) -> dict[str, list[str]]:
    from django.urls import reverse
    from django.utils.http import urlencode

    paths = {name: [f"{reverse('search')}?{urlencode(q)}"] for name, q in queries(ctx["department"]).items()}
    if "workspace" in ctx:
        paths["workspace"] = [reverse("workspace", args=[ctx["workspace"]])]
    return paths


def _timed(fn) -> dict:
    fn()  # warm-up
    samples = []
    for _ in range(REPEAT):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return {
        "p50_ms": round(statistics.median(samples), 2),
        "p95_ms": round(samples[min(len(samples) - 1, int(len(samples) * 0.95))], 2),
    }


def run() -> dict:
    """In-process timings of the selectors (no HTTP, no template)."""
    _setup_django()
    from django.core.paginator import Paginator
    from django.db import connection

    from accounts.models import User
    from departments.models import Membership
    from search.filters import parse_filters
    from search.selectors import CappedResults, search_matches, workspaces_with_counts
    from search.snippets import snippets

    if connection.vendor != "postgresql":
        return {"skipped": "PostgreSQL only"}
    agent = User.objects.filter(is_agent=True, is_active=True, memberships__isnull=False).order_by("pk").first()
    if agent is None:
        return {"skipped": "no dataset"}
    department = Membership.objects.filter(user=agent).select_related("department").first().department.slug
    prepare(agent, department)
    results = {}
    for name, params in queries(department).items():
        filters = parse_filters(params)

        def one(filters=filters):
            page = Paginator(CappedResults(search_matches(user=agent, filters=filters)), 25).get_page(1)
            snippets(list(page.object_list), filters.terms, include_notes=True)
            return page.paginator.count

        results[name] = {**_timed(one), "matches": one()}
    results["workspace_counts"] = {
        **_timed(lambda: workspaces_with_counts(agent)),
        "workspaces": len(workspaces_with_counts(agent)),
    }
    return results


def main() -> None:
    """HTTP only for the search scenarios, with run.py's dataset, server and load generator."""
    from benchmarks import http_load
    from benchmarks import run as bench

    sys.path.insert(0, str(bench.ROOT))
    bench.ensure_dataset()
    ctx = bench.prepare()
    port = bench.free_port()
    import shutil
    import signal
    import tempfile

    static_root = tempfile.mkdtemp(prefix="bench-static-")
    server = bench.start_gunicorn(port, static_root)
    try:
        from django.urls import reverse

        # The department queue as a reference: the same machine load, the same sidebar.
        reference = {"queue (reference)": [reverse("agent_department_queue", args=[ctx["department"]])]}
        for name, paths in {**reference, **scenarios(ctx)}.items():
            http_load.run("127.0.0.1", port, paths, ctx["cookie"], concurrency=1, requests=5)
            r = http_load.run("127.0.0.1", port, paths, ctx["cookie"], concurrency=1, requests=bench.REQUESTS_C1)
            print(name, r.summary())
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
        shutil.rmtree(static_root, ignore_errors=True)
    print(run())


if __name__ == "__main__":
    main()
