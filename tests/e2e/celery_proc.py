"""A real ``celery worker`` subprocess that tests can start, SIGKILL and restart."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

from ._net import tail

PROJECT_ROOT = Path(__file__).resolve().parents[2]


class CeleryWorker:
    """One worker process (``--pool=solo``), logging to ``log_path`` across restarts."""

    def __init__(
        self,
        app: str,
        *,
        env: Mapping[str, str] | None = None,
        queues: Sequence[str] = (),
        beat: bool = False,
        log_path: Path,
        cwd: Path = PROJECT_ROOT,
        extra_args: Sequence[str] = (),
        ready_timeout: float = 60,
    ) -> None:
        self.app = app
        self.env = _child_env(env, cwd)
        self.queues = tuple(queues)
        self.beat = beat
        self.log_path = log_path
        self.cwd = cwd
        self.extra_args = tuple(extra_args)
        self.ready_timeout = ready_timeout
        self.nodename = f"e2e-{uuid.uuid4().hex[:8]}@%h"
        self.starts = 0
        self._proc: subprocess.Popen | None = None

    def command(self) -> list[str]:
        cmd = [
            sys.executable,
            "-m",
            "celery",
            "-A",
            self.app,
            "worker",
            "--pool=solo",
            "--concurrency=1",
            "-l",
            "info",
            "-n",
            self.nodename,
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ]
        if self.queues:
            cmd += ["-Q", ",".join(self.queues)]
        if self.beat:
            # Embedded beat is fine for a single test worker; the schedule file stays in the log dir.
            cmd += ["-B", "-s", str(self.log_path.with_suffix(".beat-schedule"))]
        return cmd + list(self.extra_args)

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    @property
    def is_running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def start(self) -> None:
        if self.is_running:
            raise RuntimeError("worker already running")
        offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        self.starts += 1
        with self.log_path.open("ab") as log:
            log.write(f"\n===== e2e: start #{self.starts}: {' '.join(self.command())}\n".encode())
            log.flush()
            self._proc = subprocess.Popen(
                self.command(),
                cwd=self.cwd,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self._wait_ready(offset)

    def _wait_ready(self, offset: int) -> None:
        deadline = time.monotonic() + self.ready_timeout
        while time.monotonic() < deadline:
            if re.search(rf"{re.escape(self.nodename.split('@')[0])}@\S+ ready\.", self._log_since(offset)):
                return
            if self._proc.poll() is not None:
                raise RuntimeError(f"celery worker exited with {self._proc.returncode}:\n{self.log_tail()}")
            time.sleep(0.1)
        self.kill()
        raise RuntimeError(f"celery worker not ready after {self.ready_timeout}s:\n{self.log_tail()}")

    def _log_since(self, offset: int) -> str:
        with self.log_path.open("rb") as log:
            log.seek(offset)
            return log.read().decode(errors="replace")

    def kill(self) -> None:
        """SIGKILL the whole process group: no warm shutdown, unacked tasks stay unacked."""
        self._signal_and_wait(signal.SIGKILL, timeout=10)

    def stop(self, timeout: float = 15) -> None:
        """Warm shutdown (SIGTERM lets the current task finish); SIGKILL if it takes too long."""
        if not self._signal_and_wait(signal.SIGTERM, timeout=timeout):
            self.kill()

    def restart(self) -> None:
        self.stop()
        self.start()

    def _signal_and_wait(self, sig: signal.Signals, *, timeout: float) -> bool:
        proc = self._proc
        if proc is None:
            return True
        if proc.poll() is None:
            try:
                os.killpg(proc.pid, sig)
            except ProcessLookupError:
                pass
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return False
        self._proc = None
        self._note(f"===== e2e: worker exited with {proc.returncode} after {sig.name}")
        return True

    def _note(self, line: str) -> None:
        with self.log_path.open("a") as log:
            log.write(line + "\n")

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def log_tail(self, lines: int = 80) -> str:
        return tail(self.log_path, lines)


def database_url(settings_dict: Mapping[str, object]) -> str:
    """A postgres:// URL for a Django ``DATABASES`` entry, to hand to a worker subprocess.

    Inside a pytest-django test, ``django.db.connection.settings_dict`` already names the test
    database (``test_...``), so ``database_url(connection.settings_dict)`` points the worker at
    the same data. The test must use ``transactional_db`` (or ``django_db(transaction=True)``):
    rows inside the default per-test transaction are invisible to another process.
    """
    user = quote(str(settings_dict.get("USER") or ""), safe="")
    password = quote(str(settings_dict.get("PASSWORD") or ""), safe="")
    auth = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host = settings_dict.get("HOST") or "127.0.0.1"
    port = f":{settings_dict['PORT']}" if settings_dict.get("PORT") else ""
    return f"postgres://{auth}{host}{port}/{quote(str(settings_dict['NAME']), safe='')}"


def _child_env(env: Mapping[str, str] | None, cwd: Path) -> dict[str, str]:
    merged = dict(os.environ)
    merged.update(env or {})
    merged["PYTHONUNBUFFERED"] = "1"
    merged["PYTHONPATH"] = os.pathsep.join(filter(None, [str(cwd), merged.get("PYTHONPATH", "")]))
    return merged


@contextmanager
def celery_worker_process(
    app_module: str = "helpdesk_site",
    *,
    env: Mapping[str, str] | None = None,
    queues: Sequence[str] = (),
    beat: bool = False,
    log_path: Path | None = None,
    extra_args: Sequence[str] = (),
    ready_timeout: float = 60,
) -> Iterator[CeleryWorker]:
    """Start a worker for the block, stop it afterwards; print its log tail if the block raised."""
    if log_path is None:
        log_path = Path(tempfile.mkdtemp(prefix="e2e-celery-")) / "worker.log"
    worker = CeleryWorker(
        app_module,
        env=env,
        queues=queues,
        beat=beat,
        log_path=log_path,
        extra_args=extra_args,
        ready_timeout=ready_timeout,
    )
    worker.start()
    try:
        yield worker
    except BaseException:
        print(f"\n----- celery worker log tail ({log_path}) -----\n{worker.log_tail()}")
        raise
    finally:
        worker.stop()
