"""`make bench`: the helpdesk under gunicorn, as in production, against a generated PostgreSQL dataset.

BENCH_TICKETS (default 50,000; 1,000,000 for the full size) picks the dataset; BENCH_DATABASE_URL the
database (default postgres://postgres@127.0.0.1:5432/helpdesk_bench, rebuilt when its size differs).
Pages are measured over HTTP with a logged-in agent at concurrency 1 and 8 (server-side time from the
Server-Timing header, SQL queries per request from X-Query-Count); in-process benchmarks (gateway
ingestion, SLA sweep, ...) are run when their module exists. Results: a table on stdout and
benchmarks/results/latest.json (stable keys), compared with the previous results file.
"""

import importlib
import json
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
N_TICKETS = int(os.environ.get("BENCH_TICKETS", "50000"))
DB_URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/helpdesk_bench")
REQUESTS_C1 = int(os.environ.get("BENCH_REQUESTS", "200"))
SOAK_REQUESTS = int(os.environ.get("BENCH_SOAK_REQUESTS", "10000"))  # worker RSS is read after this many
# BENCH_ONLY=queue,ticket_50_messages,sla: measure only these pages / in-process benchmarks (a partial run
# writes benchmarks/results/partial.json and leaves latest.json alone).
ONLY = {x.strip() for x in os.environ.get("BENCH_ONLY", "").split(",") if x.strip()}
TARGETS_MS = {  # p95 server-side targets at 1,000,000 tickets (issue 11)
    "queue": 25, "ticket_50_messages": 35, "poll": 5, "search_rare": 150, "search_common": 150,
    "search_filtered": 150, "workspace": 25, "my_tickets": 25, "statistics": 500,
    "api_ticket_list": 30, "api_ticket_detail_50_messages": 40,
}

ENV = {
    **os.environ,
    "DATABASE_URL": DB_URL,
    "DEBUG": "false",
    "SECRET_KEY": "bench-" + "s" * 60,
    "ALLOWED_HOSTS": "127.0.0.1,localhost",
    "SECURE_SSL_REDIRECT": "false",
    "SESSION_COOKIE_SECURE": "false",
    "CSRF_COOKIE_SECURE": "false",
    "HELPDESK_SERVER_TIMING": "true",
    "CELERY_TASK_ALWAYS_EAGER": "true",
    "HELPDESK_API_RATE": "1000000/min",  # the benchmark must measure the API, not its rate limit
    "LOG_LEVEL": "WARNING",
    "DJANGO_SETTINGS_MODULE": "helpdesk_site.settings",
    # Redis as the cache, as in production (README: CACHE_URL): sessions, queue counts and menus are read
    # from it. Keys are prefixed with the database name: benchmarks of other databases may share the Redis.
    "CACHE_URL": os.environ.get("BENCH_CACHE_URL", "redis://127.0.0.1:6379/12"),
    "CACHE_KEY_PREFIX": DB_URL.rsplit("/", 1)[1],
}


def manage(*args: str, env: dict | None = None) -> None:
    subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env or ENV, check=True)


def ensure_dataset() -> None:
    import psycopg

    admin = DB_URL.rsplit("/", 1)[0] + "/postgres"
    name = DB_URL.rsplit("/", 1)[1]
    with psycopg.connect(admin, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
    if exists:
        with psycopg.connect(DB_URL) as conn:
            try:
                # Rows the benchmarks add themselves ("bench: ..." subjects) are not part of the generated dataset.
                count = conn.execute("SELECT count(*) FROM tickets_ticket WHERE subject NOT LIKE 'bench:%'").fetchone()[0]
            except psycopg.Error:
                count = -1
        if count == N_TICKETS:
            manage("migrate", "-v0")
            print(f"dataset: reusing {count} tickets in {name}")
            return
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    manage("migrate", "-v0")
    started = time.monotonic()
    manage("generate_dataset", "--tickets", str(N_TICKETS))
    print(f"dataset: generated {N_TICKETS} tickets in {time.monotonic() - started:.0f} s")


def maintain() -> float | None:
    """VACUUM (ANALYZE) the bench database when the server's autovacuum is off, as it is on these
    machines' PostgreSQL (conf.d/90-ci.conf, set for the test suite): a production server's autovacuum
    keeps the statistics, the visibility map and the search GIN indexes' pending lists up to date, and
    without it every run measured a database worn by the runs before (ingested mail, the SLA
    benchmark's filler tickets): a common-word search took 170 ms instead of 63 ms, its GIN index
    scanning a full pending list. Returns the seconds it took, None when autovacuum is on."""
    import psycopg

    with psycopg.connect(DB_URL, autocommit=True) as conn:
        if conn.execute("SHOW autovacuum").fetchone()[0] == "on":
            return None
        started = time.monotonic()
        conn.execute("VACUUM (ANALYZE)")
        return round(time.monotonic() - started, 1)


def prepare() -> dict:
    """An agent, his session cookie and a ticket with 50 messages (created through the services)."""
    os.environ.update(ENV)
    import django

    django.setup()
    from django.test import Client

    from accounts.models import User
    from departments.models import Membership
    from tickets import services
    from tickets.models import Ticket

    agent = User.objects.filter(is_agent=True, is_active=True, memberships__isnull=False).order_by("pk").first()
    membership = Membership.objects.filter(user=agent).select_related("department").first()
    ticket = Ticket.objects.filter(subject="bench: fifty messages").first()
    if ticket is None:
        customer = User.objects.filter(is_agent=False).order_by("pk").first()
        ticket = services.ticket_create(customer=customer, department=membership.department,
                                        subject="bench: fifty messages", body_text="first", acknowledge=False)
        for i in range(49):
            if i % 2:
                services.ticket_customer_message(ticket=ticket, author=customer, body_text=f"message {i} " * 20)
            else:
                services.ticket_reply(ticket=ticket, author=agent, body_text=f"answer {i} " * 20)
    client = Client()
    client.force_login(agent)
    from benchmarks import search as search_bench

    ctx = {"cookie": f"sessionid={client.cookies['sessionid'].value}", "agent": agent.email,
           "department": membership.department.slug, "ticket": ticket.number,
           **search_bench.prepare(agent, membership.department.slug)}
    try:  # the statistics page needs a manager (benchmarks/reports.py)
        from benchmarks import reports
    except ModuleNotFoundError:
        return ctx
    return reports.prepare_manager(ctx)


def endpoints(ctx: dict) -> dict[str, list[str]]:
    from django.urls import NoReverseMatch, reverse

    def url(name, *args, query=""):
        try:
            return reverse(name, args=args) + query
        except NoReverseMatch:
            return None

    candidates = {
        "queue": [url("agent_department_queue", ctx["department"])],
        "ticket_50_messages": [url("agent_ticket", ctx["ticket"])],
        # The agent's tickets across all his departments ("My tickets"); "workspace" (a saved search) is
        # added by benchmarks/search.py.
        "my_tickets": [url("agent_queue", query="?queue=mine")],
        "poll": [url("agent_poll")],
        "statistics": _statistics_paths(ctx),
    }
    from benchmarks import search as search_bench  # search_rare/common/filtered and workspace

    candidates.update(search_bench.scenarios(ctx))
    return {k: v for k, v in candidates.items() if v and all(v) and (not ONLY or k in ONLY)}


# Pages measured with another user's session than the agent's (name -> ctx key of the cookie).
COOKIES = {"statistics": "manager_cookie"}


def _statistics_paths(ctx: dict) -> list[str] | None:
    """One department over a year, as its manager sees it (benchmarks/reports.py)."""
    if "manager_cookie" not in ctx:
        return None
    from benchmarks import reports

    return reports.paths(ctx)


def cpu_speed_s() -> float:
    """Seconds one core takes for a fixed pure-Python loop (best of three): a yardstick for the machine's
    speed at the time of the run. VMs of the same kind measured 1.2-1.8 s for it, and one VM moved
    within that range from one minute to the next: compare runs only together with this figure."""
    best = float("inf")
    for _ in range(3):
        started, total = time.perf_counter(), 0
        for i in range(10_000_000):
            total += i
        best = min(best, time.perf_counter() - started)
    return round(best, 3)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_gunicorn(port: int, static_root: str) -> subprocess.Popen:
    env = {**ENV, "STATIC_ROOT": static_root}
    manage("collectstatic", "--noinput", "-v0", env=env)
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "helpdesk_site.wsgi", "--bind", f"127.0.0.1:{port}",
         "--workers", "2", "--access-logfile", "/dev/null"],
        cwd=ROOT, env=env, start_new_session=True,
    )
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return proc
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("gunicorn did not start")


def worker_rss_mb(master: subprocess.Popen) -> float:
    out = subprocess.run(["ps", "--ppid", str(master.pid), "-o", "rss="], capture_output=True, text=True).stdout
    values = [int(x) for x in out.split()]
    return round(max(values) / 1024, 1) if values else 0.0


def measure_http(port: int, ctx: dict) -> dict:
    from benchmarks import http_load

    results = {}
    for name, paths in endpoints(ctx).items():
        cookie = ctx[COOKIES.get(name, "cookie")]
        http_load.run("127.0.0.1", port, paths, cookie, concurrency=2, requests=20)  # warm-up
        c1 = http_load.run("127.0.0.1", port, paths, cookie, concurrency=1, requests=REQUESTS_C1)
        c8 = http_load.run("127.0.0.1", port, paths, cookie, concurrency=8, requests=REQUESTS_C1 * 2)
        results[name] = {"c1": c1.summary(), "c8": c8.summary(), "target_p95_ms": TARGETS_MS.get(name)}
    return results


def soak(port: int, ctx: dict, remaining: int) -> int:
    """Top the run up to SOAK_REQUESTS over all pages, so worker RSS is read after as many requests
    as the target names (memory growth shows only over thousands of requests)."""
    from benchmarks import http_load

    if remaining <= 0:
        return 0
    paths = [p for name, ps in endpoints(ctx).items() if name not in COOKIES for p in ps]
    return http_load.run("127.0.0.1", port, paths, ctx["cookie"], concurrency=8, requests=remaining).summary()["requests"]


def in_process() -> tuple[dict, float | None]:
    """Benchmarks that are functions, contributed by each subsystem (benchmarks/<name>.py: run(...)),
    and maintain()'s seconds: the reads (search, reports) run after it, as the writes before them
    (ingest, sla) add rows."""
    results, vacuumed, maintained = {}, None, False
    for name in ("ingest", "sla", "search", "reports"):
        if ONLY and name not in ONLY:
            continue
        if name in ("search", "reports") and not maintained:
            vacuumed, maintained = maintain(), True
        try:
            module = importlib.import_module(f"benchmarks.{name}")
        except ModuleNotFoundError:
            continue
        try:
            results[name] = module.run()
        except Exception as exc:  # noqa: BLE001 - one failing benchmark must not hide the others
            results[name] = {"error": f"{type(exc).__name__}: {exc}"}
    return results, vacuumed


def report(data: dict, previous: dict | None) -> None:
    print(f"\n{'endpoint':<22}{'p50 ms':>9}{'p95 ms':>9}{'target':>8}{'rps c1':>8}{'p95 c8':>9}{'rps c8':>8}{'SQL':>5}{'prev p95':>10}")
    for name, r in data["http"].items():
        c1, c8 = r["c1"], r["c8"]
        prev = ((previous or {}).get("http", {}).get(name, {}).get("c1", {}) or {}).get("server_p95_ms", "")
        print(f"{name:<22}{c1.get('server_p50_ms', '-'):>9}{c1.get('server_p95_ms', '-'):>9}"
              f"{r['target_p95_ms'] or '':>8}{c1.get('rps', '-'):>8}{c8.get('server_p95_ms', '-'):>9}"
              f"{c8.get('rps', '-'):>8}{c1.get('queries_per_request', '-'):>5}{prev:>10}")
    print(f"gunicorn worker RSS after {data['requests_served']} requests: {data['worker_rss_mb']} MB")
    print(f"machine speed (fixed Python loop, s, start/end; lower is faster): {data['machine']['cpu_speed_s']}")
    print(f"VACUUM (ANALYZE) in place of autovacuum, s (before the pages, before the reads): {data.get('vacuum_s')}")
    for name, r in data["in_process"].items():
        print(f"{name}: {json.dumps(r, ensure_ascii=False)}")


def main() -> None:
    sys.path.insert(0, str(ROOT))
    from benchmarks import api as api_bench

    RESULTS.mkdir(parents=True, exist_ok=True)
    speed_before = cpu_speed_s()
    ensure_dataset()
    vacuumed_before_pages = maintain()
    ctx = prepare()
    ctx.update(api_bench.prepare(ctx))
    port = free_port()
    static_root = tempfile.mkdtemp(prefix="bench-static-")
    server = start_gunicorn(port, static_root)
    try:
        http = measure_http(port, ctx)
        if not ONLY or ONLY & {"api_ticket_list", "api_ticket_detail_50_messages"}:
            http.update(api_bench.measure(port, ctx, requests=REQUESTS_C1, targets=TARGETS_MS))
        served = sum(r["c1"]["requests"] + r["c8"]["requests"] + 20 for r in http.values())
        if not ONLY:
            served += soak(port, ctx, SOAK_REQUESTS - served)
        rss = worker_rss_mb(server)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
        shutil.rmtree(static_root, ignore_errors=True)
    in_process_results, vacuumed_before_reads = in_process()
    data = {
        "tickets": N_TICKETS,
        "machine": {
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "python": platform.python_version(),
            # cpu_speed_s() at the start and the end of the run (lower is faster)
            "cpu_speed_s": [speed_before, cpu_speed_s()],
        },
        "http": http,
        "requests_served": served,
        "worker_rss_mb": rss,
        "in_process": in_process_results,
        # VACUUM (ANALYZE) standing in for a server's autovacuum (maintain()), before the pages and before
        # the in-process reads; null where it is on
        "vacuum_s": [vacuumed_before_pages, vacuumed_before_reads],
        "finished_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    latest = RESULTS / "latest.json"
    previous = json.loads(latest.read_text()) if latest.exists() else None
    if ONLY:  # compared with the last full run, which it does not replace
        latest = RESULTS / "partial.json"
    elif previous:
        (RESULTS / "previous.json").write_text(json.dumps(previous, indent=2, ensure_ascii=False))
    latest.write_text(json.dumps(data, indent=2, ensure_ascii=False))
    report(data, previous)
    print(f"\nwritten {latest}")


if __name__ == "__main__":
    main()
