"""A real Celery worker subprocess can be started, SIGKILLed and restarted."""

import time
import uuid
from pathlib import Path

import pytest
import redis

from tests.e2e import _demo_celery_app as demo
from tests.e2e.servers import celery_worker_process, database_url

pytestmark = pytest.mark.e2e

APP = "tests.e2e._demo_celery_app"


@pytest.fixture
def queue():
    """A queue of our own, so concurrent test runs sharing the Redis db do not steal tasks."""
    client = redis.Redis.from_url(demo.app.conf.broker_url)
    try:
        client.ping()
    except redis.ConnectionError as exc:
        pytest.skip(f"Redis not reachable at {demo.app.conf.broker_url}: {exc}")
    name = f"e2e-demo-{uuid.uuid4().hex[:8]}"
    yield name
    client.delete(name)


def _send(task, *args, queue: str) -> None:
    task.apply_async(args, queue=queue)


def _wait_for_file(path: Path, timeout: float = 20) -> str:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert time.monotonic() < deadline, f"{path} was not written within {timeout}s"
        time.sleep(0.05)
    return path.read_text()


def test_worker_runs_tasks_survives_sigkill_and_restart(celery_worker_factory, queue, tmp_path):
    worker = celery_worker_factory(APP, queues=[queue])
    _send(demo.write_file, str(tmp_path / "one.txt"), "first", queue=queue)
    assert _wait_for_file(tmp_path / "one.txt") == "first"

    pid = worker.pid
    worker.kill()
    assert not worker.is_running
    _send(demo.write_file, str(tmp_path / "two.txt"), "queued while dead", queue=queue)
    time.sleep(1)
    assert not (tmp_path / "two.txt").exists()

    worker.start()
    assert worker.pid != pid
    assert _wait_for_file(tmp_path / "two.txt") == "queued while dead"
    _send(demo.write_file, str(tmp_path / "three.txt"), "after restart", queue=queue)
    assert _wait_for_file(tmp_path / "three.txt") == "after restart"
    assert "after SIGKILL" in worker.log_text()


def test_task_killed_mid_run_is_redelivered_with_acks_late(celery_worker_factory, queue, tmp_path):
    # A short visibility timeout makes Redis hand the unacknowledged message out again quickly;
    # the task must take less than that, or Redis would also redeliver the healthy second run.
    worker = celery_worker_factory(APP, queues=[queue], env={"E2E_DEMO_VISIBILITY": "4"})
    out, marker = tmp_path / "out.txt", tmp_path / "started"
    _send(demo.slow_write, str(out), "done", str(marker), 2, queue=queue)
    _wait_for_file(marker)

    worker.kill()
    marker.unlink()
    assert not out.exists()
    worker.start()

    assert _wait_for_file(out, timeout=30) == "done\n"
    assert marker.exists()  # the task really ran a second time


def test_worker_that_cannot_start_reports_its_log(celery_worker_factory):
    with pytest.raises(RuntimeError, match="Unable to load celery application"):
        celery_worker_factory("tests.e2e.no_such_app_module")


def test_context_manager_stops_the_worker(queue, tmp_path):
    with celery_worker_process(APP, queues=[queue], log_path=tmp_path / "w.log") as worker:
        _send(demo.write_file, str(tmp_path / "cm.txt"), "ok", queue=queue)
        assert _wait_for_file(tmp_path / "cm.txt") == "ok"
    assert not worker.is_running
    assert "ready." in (tmp_path / "w.log").read_text()


def test_database_url_from_django_settings_dict():
    settings = {
        "NAME": "test_helpdesk",
        "USER": "postgres",
        "PASSWORD": "p@ss/word",
        "HOST": "127.0.0.1",
        "PORT": "5432",
    }
    assert database_url(settings) == "postgres://postgres:p%40ss%2Fword@127.0.0.1:5432/test_helpdesk"
    assert (
        database_url({"NAME": "x", "USER": "postgres", "HOST": "", "PORT": ""})
        == "postgres://postgres@127.0.0.1/x"
    )
