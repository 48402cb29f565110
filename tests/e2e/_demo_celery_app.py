"""A tiny Celery app that exercises the worker fixture before the Django project exists.

Broker: Redis db 15 unless E2E_DEMO_BROKER_URL says otherwise.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from celery import Celery

# Not the current app: importing this module in the test process must not capture the project's shared_tasks.
app = Celery("e2e_demo", broker=os.environ.get("E2E_DEMO_BROKER_URL") or os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15"), set_as_current=False)
app.conf.update(
    task_default_queue="e2e-demo",
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    worker_prefetch_multiplier=1,
    broker_connection_retry_on_startup=True,
    # kombu's Redis transport redelivers a SIGKILLed worker's unacknowledged task only after
    # visibility_timeout (default 1 h) and sweeps for such tasks every interval*throttle
    # seconds (default 100 s); the redelivery test shortens both.
    broker_transport_options={
        "visibility_timeout": int(os.environ.get("E2E_DEMO_VISIBILITY", "3600")),
        "unacked_restore_interval": 1,
        "unacked_restore_throttle": 1,
    },
)


@app.task
def write_file(path: str, content: str) -> str:
    Path(path).write_text(content)
    return path


@app.task
def slow_write(path: str, content: str, started_marker: str, seconds: float) -> str:
    """Signal that it started, sleep (so a test can SIGKILL the worker here), then write."""
    Path(started_marker).write_text(str(os.getpid()))
    time.sleep(seconds)
    with Path(path).open("a") as handle:
        handle.write(content + "\n")
    return path
