"""Sustained inbound-mail ingestion: messages per second in ONE process (store + process), PostgreSQL.

    DATABASE_URL=postgres://... python -m benchmarks.ingest [COUNT]

`run()` is what `make bench` calls; it returns a dict. Each message is stored (store_many() or
store_raw()) and processed with process_batch() exactly as the Celery task does (claim, parse, route, customer lookup or
creation, ticket_create or ticket_customer_message, acknowledgement rendered and queued in the outbox),
three times: one transaction per message (stored one by one); HELPDESK_INBOUND_BATCH messages per
transaction, stored as the IMAP poller stores a fetched chunk (one durable commit for the lot; the
headline figure); and the same batches stored one by one (as the MTA pipe and the webhook store, in
their own processes: here added to the worker's time).
Outbound sending is excluded (the outbox rows are written, the send task is not queued). Messages are
5-20 KB multipart text+HTML with quoted history, 70% new tickets from a pool of senders, 30% replies by
[#ref] tag. Everything the benchmark creates is deleted afterwards. See benchmarks/ingest.md.
"""

from __future__ import annotations

import gc
import json
import os
import random
import statistics
import sys
import time
import uuid
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path


def _setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk_site.settings")
    import django
    from django.apps import apps

    if not apps.ready:
        django.setup()


LOREM = (
    "Здравствуйте! После обновления перестала работать отправка почты из личного кабинета. "
    "The SMTP relay answers 451 temporary failure and the queue keeps growing on the server. "
)


def _body(rng: random.Random, size: int) -> tuple[str, str]:
    lines, total = [], 0
    while total < size:
        line = LOREM[: rng.randint(60, len(LOREM))]
        lines.append(line if rng.random() > 0.3 else "> " + line)
        total += len(line.encode()) + 1
    text = "\n".join(lines)
    html = "<html><body>" + "".join(f"<p>{line}</p>" for line in lines[: len(lines) // 2]) + "</body></html>"
    return text, html


def _message(rng: random.Random, tag: str, sender: str, subject: str) -> bytes:
    msg = EmailMessage()
    msg["From"] = f"Bench Sender <{sender}>"
    msg["To"] = f"support@{tag}.bench.invalid"
    msg["Subject"] = subject
    msg["Message-ID"] = make_msgid(domain=f"{tag}.bench.invalid")
    msg["Date"] = "Mon, 15 Jan 2024 10:15:00 +0300"
    text, html = _body(rng, rng.randint(2500, 9000))  # the two parts together make 5-20 KB encoded
    msg.set_content(text)
    msg.add_alternative(html, subtype="html")
    return msg.as_bytes()


def _fixtures(tag: str):
    from departments.models import Department, DepartmentAddress
    from sla.models import SlaPolicy

    department = Department.objects.create(
        name=f"Bench {tag}", slug=f"bench-{tag}", from_email=f"support@{tag}.bench.invalid", position=999
    )
    DepartmentAddress.objects.create(department=department, email=f"support@{tag}.bench.invalid")
    # A department as configured in production: SLA clocks are computed and written for every mail.
    SlaPolicy.objects.create(
        department=department, first_response_minutes=60, next_response_minutes=240, resolution_minutes=2880
    )
    return department


def _cleanup(tag: str) -> None:
    from accounts.models import User
    from departments.models import Department
    from mailgateway.models import InboundEmail, OutboundEmail
    from tickets.models import Ticket

    department = Department.objects.get(slug=f"bench-{tag}")
    OutboundEmail.objects.filter(ticket__department=department).delete()
    Ticket.objects.filter(department=department).delete()
    InboundEmail.objects.filter(source=f"bench:{tag}").delete()
    User.objects.filter(email__endswith=f"@{tag}.sender.invalid").delete()
    department.delete()


def _round(rng: random.Random, tag: str, department, senders: list[str], size: int, start: int) -> list[bytes]:
    """The next `size` messages: replies (by [#ref] tag) to tickets made so far, or new requests."""
    from tickets.models import Ticket

    recent = list(
        Ticket.objects.filter(department=department).order_by("-pk").values_list("number", "customer__email")[:50]
    )
    raws = []
    for i in range(start, start + size):
        if recent and rng.random() < 0.3:
            number, customer = rng.choice(recent)
            raws.append(_message(rng, tag, customer, f"Re: [#{number}] Почта не уходит"))
        else:
            raws.append(_message(rng, tag, rng.choice(senders), f"Почта не уходит {i}"))
    return raws


def _db_backend_cpu() -> float | None:
    """CPU seconds used so far by this connection's PostgreSQL backend (when the server runs on this
    machine, as in `make bench`): on a shared machine it tells the work from the waiting."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def _measure(tag: str, department, count: int, warmup: int, batch: int, seed: int, *, chunked: bool) -> dict:
    """Store and process `count` messages, `batch` per worker transaction, as the Celery task does.

    chunked: the round is stored as the IMAP poller stores what it fetched (services.receive_many: one
    INSERT and one durable commit per chunk); otherwise each mail is committed on its own, as the MTA pipe and the
    webhook do (in their own processes, not the worker's: here it is added to the worker's time)."""
    from django.db import transaction

    from mailgateway import services

    rng = random.Random(seed)
    # A pool of senders per run: the acknowledgement rate limit (HELPDESK_ACK_PER_HOUR per sender) must
    # not carry over from the first run, or the second would acknowledge almost nothing.
    senders = [f"customer{i}.b{batch}{'c' if chunked else ''}@{tag}.sender.invalid" for i in range(50)]
    wall = cpu = store_wall = 0.0
    per_message, sizes, done, db_cpu_started = [], [], 0, None
    while done < count + warmup:
        if done >= warmup and db_cpu_started is None:
            db_cpu_started = _db_backend_cpu() or 0.0
        raws = _round(rng, tag, department, senders, min(batch, count + warmup - done), done)
        started, cpu_started = time.perf_counter(), time.process_time()
        if chunked:
            with transaction.atomic(durable=True):  # what services.receive_many does, without queueing
                first = services.store_many(raws, source=f"bench:{tag}")[0][0].pk
        else:
            first = None
            for raw in raws:
                row, _ = services.store_raw(raw, source=f"bench:{tag}")
                first = first or row.pk
        stored = time.perf_counter()
        processed = services.process_batch(first_id=first, limit=len(raws))
        elapsed, cpu_used = time.perf_counter() - started, time.process_time() - cpu_started
        # Mails waiting in the database from elsewhere would be claimed (and processed) too: refuse.
        assert len(processed) == len(raws), "another process took some of the benchmark's messages"
        assert all(row.source == f"bench:{tag}" for row in processed), "the database has mail waiting"
        if done >= warmup:
            wall, cpu, store_wall = wall + elapsed, cpu + cpu_used, store_wall + stored - started
            per_message += [elapsed / len(raws)] * len(raws)
            sizes += [len(r) for r in raws]
        done += len(raws)
    db_cpu = _db_backend_cpu()
    # Worker and database CPU per mail: what one worker would reach on an idle machine (the two
    # alternate, a mail at a time), short of network and disk latency.
    cpu_ms = cpu / len(per_message) * 1000
    db_ms = (db_cpu - db_cpu_started) / len(per_message) * 1000 if db_cpu is not None else None
    return {
        "batch": batch,
        "stored": "in one commit per batch (IMAP poller)" if chunked else "one commit per mail (pipe, webhook)",
        "messages_per_second_per_process": round(len(per_message) / wall, 1),
        "ms_per_message_median": round(statistics.median(per_message) * 1000, 2),
        "ms_per_message_p95": round(sorted(per_message)[int(len(per_message) * 0.95) - 1] * 1000, 2),
        # Storing commits each mail durably on its own (fsync); processing commits once per batch.
        "store_ms_per_message": round(store_wall / len(per_message) * 1000, 2),
        "process_ms_per_message": round((wall - store_wall) / len(per_message) * 1000, 2),
        # CPU of this process alone: what the figure would approach without DB latency / a busy machine.
        "worker_cpu_ms_per_message": round(cpu_ms, 2),
        "database_cpu_ms_per_message": round(db_ms, 2) if db_ms is not None else None,
        # Both CPUs added: the rate when every core is busy (several workers; the machine's capacity).
        "cpu_bound_messages_per_second": round(1000 / (cpu_ms + (db_ms or 0)), 1),
        # A batch is pipelined (mailgateway.services._run_optimistic): the worker and PostgreSQL work at
        # the same time, so one worker process with a free core for the database is bound by the slower.
        "overlapped_cpu_bound_messages_per_second": round(1000 / max(cpu_ms, db_ms or 0), 1),
        "processing_only_messages_per_second": round(len(per_message) / (wall - store_wall), 1),
        "message_kb_min_max": [round(min(sizes) / 1024, 1), round(max(sizes) / 1024, 1)],
    }


def run(count: int = 400, warmup: int = 20, seed: int = 1, batch: int | None = None) -> dict:
    """Measure with one transaction per message and with HELPDESK_INBOUND_BATCH (the worker's setting)."""
    _setup_django()
    from django.conf import settings
    from django.db import connection

    from mailgateway import tasks
    from mailgateway.models import InboundEmail

    batch = batch or settings.HELPDESK_INBOUND_BATCH
    from helpdesk_site.gc_tuning import tune_for_worker

    thresholds = gc.get_threshold()
    tune_for_worker()  # as the Celery worker's processes are (helpdesk_site/celery.py)
    tag = uuid.uuid4().hex[:8]
    department = _fixtures(tag)
    send_task = tasks.send_outbound_email.delay
    # Outbound sending is excluded (issue 3): the acknowledgements are rendered and written to the outbox,
    # but not handed to the broker or sent.
    tasks.send_outbound_email.delay = lambda *args, **kwargs: None
    load_before = os.getloadavg()[0]
    try:
        single = _measure(tag, department, count, warmup, 1, seed, chunked=False)
        batched = _measure(tag, department, count, warmup, batch, seed + 1, chunked=True)
        stored_each = _measure(tag, department, count, warmup, batch, seed + 2, chunked=False)
        actions: dict[str, int] = {}
        for action in InboundEmail.objects.filter(source=f"bench:{tag}").values_list("action", flat=True):
            actions[action] = actions.get(action, 0) + 1
    finally:
        tasks.send_outbound_email.delay = send_task
        _cleanup(tag)
        gc.unfreeze()  # the benchmarks run after this one in the same process are not the worker's
        gc.set_threshold(*thresholds)
    return {
        "name": "mail_ingest",
        "database": connection.vendor,
        "messages": count,
        # The headline figure is the worker's real configuration: it polls IMAP (a chunk stored in one
        # commit) and processes batches. Mail from the pipe or a webhook is stored by another process;
        # "batched_stored_one_by_one" adds those stores to the worker's time all the same.
        "messages_per_second_per_process": batched["messages_per_second_per_process"],
        "stored_one_by_one_messages_per_second_per_process": stored_each["messages_per_second_per_process"],
        "worker_cpu_ms_per_message": batched["worker_cpu_ms_per_message"],
        "cpu_bound_messages_per_second": batched["cpu_bound_messages_per_second"],
        "overlapped_cpu_bound_messages_per_second": batched["overlapped_cpu_bound_messages_per_second"],
        "one_per_transaction": single,
        "batched": batched,
        "batched_stored_one_by_one": stored_each,
        "load_average_1min": [round(load_before, 2), round(os.getloadavg()[0], 2)],
        "cpus": os.cpu_count(),
        "actions": actions,
        "target_messages_per_second": 200,
    }


if __name__ == "__main__":
    print(json.dumps(run(int(sys.argv[1]) if len(sys.argv) > 1 else 400), indent=2, ensure_ascii=False))
