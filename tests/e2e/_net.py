"""Loopback port helpers shared by the server wrappers."""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

LOOPBACK = "127.0.0.1"


class WaitTimeout(AssertionError):
    """A polled condition did not become true in time (an assertion failure in the test)."""


def free_port() -> int:
    """Ask the kernel for a free TCP port.

    There is a small race between closing this socket and the server binding the port; it
    only matters when many servers start at once, and the callers retry on bind failure.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        return sock.getsockname()[1]


def port_accepts(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def poll(condition: Callable[[], bool], *, timeout: float, interval: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(interval)
    return condition()


def tail(path: Path, lines: int = 60) -> str:
    try:
        text = path.read_text(errors="replace")
    except FileNotFoundError:
        return f"(no log file at {path})"
    return "\n".join(text.splitlines()[-lines:])


def wait_for_ports(proc: subprocess.Popen, host: str, ports: list[int], *, timeout: float, log: Path) -> None:
    """Wait until every port accepts connections; fail early with the log if the process died."""

    def ready() -> bool:
        if proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode} before listening:\n{tail(log)}")
        return all(port_accepts(host, port) for port in ports)

    if not poll(ready, timeout=timeout, interval=0.1):
        raise RuntimeError(f"ports {ports} not accepting after {timeout}s:\n{tail(log)}")
