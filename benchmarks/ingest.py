"""Sustained inbound-mail ingestion: messages per second in ONE process (store + process), PostgreSQL.

    DATABASE_URL=postgres://... python -m benchmarks.ingest [COUNT]

`run()` is what `make bench` calls; it returns a dict. Each message is stored with store_raw() and
processed with process_inbound() exactly as the Celery task does (parse, route, customer lookup or
creation, ticket_create or ticket_customer_message, acknowledgement rendered and queued in the outbox).
SMTP sending is excluded (the outbox rows are written, not sent). Messages are 5-20 KB multipart
text+HTML with quoted history, 70% new tickets from a pool of senders, 30% replies by [#ref] tag.
Everything the benchmark creates is deleted afterwards.
"""

from __future__ import annotations

import json
import os
import random
import statistics
import sys
import time
import uuid
from email.message import EmailMessage
from email.utils import make_msgid


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

    department = Department.objects.create(
        name=f"Bench {tag}", slug=f"bench-{tag}", from_email=f"support@{tag}.bench.invalid", position=999
    )
    DepartmentAddress.objects.create(department=department, email=f"support@{tag}.bench.invalid")
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


def run(count: int = 400, warmup: int = 20, seed: int = 1) -> dict:
    _setup_django()
    from django.db import connection

    from mailgateway import services
    from tickets.models import Ticket

    rng = random.Random(seed)
    tag = uuid.uuid4().hex[:8]
    department = _fixtures(tag)
    senders = [f"customer{i}@{tag}.sender.invalid" for i in range(50)]
    raws, sizes, timings, cpu = [], [], [], []
    try:
        for i in range(count + warmup):
            recent = list(
                Ticket.objects.filter(department=department).values_list("number", "customer__email")[:50]
            )
            if recent and rng.random() < 0.3:
                number, customer = rng.choice(recent)
                raw = _message(rng, tag, customer, f"Re: [#{number}] Почта не уходит")
            else:
                raw = _message(rng, tag, rng.choice(senders), f"Почта не уходит {i}")
            started, cpu_started = time.perf_counter(), time.process_time()
            row, _ = services.store_raw(raw, source=f"bench:{tag}")
            services.process_inbound(row.pk)
            elapsed = time.perf_counter() - started
            if i >= warmup:
                timings.append(elapsed)
                cpu.append(time.process_time() - cpu_started)
                sizes.append(len(raw))
            raws.append(raw)
        from mailgateway.models import InboundEmail

        actions = dict.fromkeys(["created", "appended", "quarantined"], 0)
        for action in InboundEmail.objects.filter(source=f"bench:{tag}").values_list("action", flat=True):
            actions[action] = actions.get(action, 0) + 1
    finally:
        _cleanup(tag)
    total = sum(timings)
    return {
        "name": "mail_ingest",
        "database": connection.vendor,
        "messages": len(timings),
        "messages_per_second_per_process": round(len(timings) / total, 1),
        "ms_per_message_median": round(statistics.median(timings) * 1000, 2),
        "ms_per_message_p95": round(sorted(timings)[int(len(timings) * 0.95) - 1] * 1000, 2),
        # CPU of this process alone: what the figure would approach without DB latency / a busy machine.
        "worker_cpu_ms_per_message": round(statistics.mean(cpu) * 1000, 2),
        "load_average_1min": round(os.getloadavg()[0], 2),
        "message_kb_min_max": [round(min(sizes) / 1024, 1), round(max(sizes) / 1024, 1)],
        "actions": actions,
        "target_messages_per_second": 200,
    }


if __name__ == "__main__":
    print(json.dumps(run(int(sys.argv[1]) if len(sys.argv) > 1 else 400), indent=2))
