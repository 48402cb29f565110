"""An in-process SMTP sink (aiosmtpd) that records every delivery and can simulate 4xx failures."""

from __future__ import annotations

import email
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage

from aiosmtpd.controller import Controller

from ._net import LOOPBACK, WaitTimeout, free_port

TEMP_FAILURE = "451 4.3.0 Temporary failure, please retry (e2e sink)"


@dataclass(frozen=True)
class ReceivedMessage:
    mail_from: str
    rcpt_tos: tuple[str, ...]
    raw: bytes
    message: EmailMessage

    @property
    def subject(self) -> str:
        return str(self.message.get("Subject", ""))

    def text(self) -> str:
        """The plain-text body (or the only body), decoded; handy for asserting on content."""
        part = self.message.get_body(preferencelist=("plain", "html"))
        return part.get_content() if part is not None else ""


class SmtpSink:
    """Records messages; ``fail_next(n)`` makes the next n DATA commands answer 451."""

    def __init__(self) -> None:
        self.host = LOOPBACK
        self.port = 0
        self.messages: list[ReceivedMessage] = []
        self.rejected = 0
        self._fail_remaining = 0
        self._fail_reply = TEMP_FAILURE
        self._cond = threading.Condition()

    # aiosmtpd handler hook; runs on the controller's event-loop thread.
    async def handle_DATA(self, server, session, envelope) -> str:
        return self._receive(
            envelope.mail_from, envelope.rcpt_tos, envelope.original_content or envelope.content
        )

    def _receive(self, mail_from: str, rcpt_tos: list[str], raw: bytes) -> str:
        with self._cond:
            if self._fail_remaining > 0:
                self._fail_remaining -= 1
                self.rejected += 1
                return self._fail_reply
            parsed = email.message_from_bytes(raw, policy=policy.default)
            self.messages.append(ReceivedMessage(mail_from, tuple(rcpt_tos), raw, parsed))
            self._cond.notify_all()
        return "250 2.0.0 OK"

    def fail_next(self, count: int, reply: str = TEMP_FAILURE) -> None:
        """Refuse the next ``count`` deliveries with ``reply`` (a 4xx keeps clients retrying)."""
        with self._cond:
            self._fail_remaining = count
            self._fail_reply = reply

    def clear(self) -> None:
        with self._cond:
            self.messages.clear()
            self.rejected = 0
            self._fail_remaining = 0

    def wait_for(
        self, predicate: Callable[[ReceivedMessage], bool] | None = None, timeout: float = 20
    ) -> ReceivedMessage:
        """Return the first received message matching ``predicate``, waiting up to ``timeout``."""
        predicate = predicate or (lambda _m: True)
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for message in self.messages:
                    if predicate(message):
                        return message
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise WaitTimeout(f"no matching message within {timeout}s; got {self._summary()}")
                self._cond.wait(remaining)

    def wait_for_count(self, count: int, timeout: float = 20) -> list[ReceivedMessage]:
        deadline = time.monotonic() + timeout
        with self._cond:
            while len(self.messages) < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise WaitTimeout(f"expected {count} messages within {timeout}s; got {self._summary()}")
                self._cond.wait(remaining)
            return list(self.messages)

    def _summary(self) -> str:
        items = [f"{m.rcpt_tos} {m.subject!r}" for m in self.messages]
        return f"{len(items)} message(s) {items}, {self.rejected} rejected"


@contextmanager
def smtp_sink(attempts: int = 5) -> Iterator[SmtpSink]:
    """Run an SmtpSink on a free loopback port for the duration of the block."""
    sink = SmtpSink()
    controller = _start_controller(sink, attempts)
    try:
        yield sink
    finally:
        controller.stop()


def _start_controller(sink: SmtpSink, attempts: int) -> Controller:
    last_error: Exception | None = None
    for _ in range(attempts):  # free_port() can race with another process; retry on bind errors
        port = free_port()
        controller = Controller(sink, hostname=LOOPBACK, port=port, enable_SMTPUTF8=True)
        try:
            controller.start()
        except (OSError, RuntimeError) as exc:
            last_error = exc
            continue
        sink.port = port
        return controller
    raise RuntimeError(f"could not start SMTP sink: {last_error}")
