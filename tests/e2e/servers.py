"""Pytest fixtures for end-to-end tests: real servers on loopback, no mocks.

Import into a conftest.py with ``from tests.e2e.servers import *`` (``__all__`` lists the
fixtures, the report hook they rely on and the helper classes).

Fixtures
    smtp_server           function  SmtpSink on a free port (fresh per test)
    imap_server           session   DovecotServer with IMAP and IMAPS (self-signed)
    imap_user             function  (name, password) of a new, empty IMAP account
    celery_worker_factory function  start(app_module, env=..., queues=..., beat=...) -> CeleryWorker;
                                    all stopped at teardown, log tails printed if the test failed
    playwright_instance   session   Playwright sync API (skips if Chromium is missing)
    browser               session   headless system Chromium
    page                  function  a page in a fresh browser context; screenshot on failure

Django + Playwright: Playwright's sync API keeps an asyncio event loop running in the main
thread, so Django's async-safety guard would raise SynchronousOnlyOperation when a test (or
pytest-django's live_server/db fixtures) uses the ORM while a browser is open. The
``playwright_instance`` fixture therefore sets DJANGO_ALLOW_ASYNC_UNSAFE=true for as long as
Playwright runs; the ORM calls really are synchronous, so this is safe in tests.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from ._net import WaitTimeout, free_port
from .browser import (
    CHROMIUM,
    chromium_available,
    format_violations,
    launch_chromium,
    run_axe,
    static_http_server,
)
from .celery_proc import CeleryWorker, celery_worker_process, database_url
from .imap import DovecotServer, dovecot_available, dovecot_server, unverified_ssl_context
from .smtp import ReceivedMessage, SmtpSink, smtp_sink

__all__ = [
    "CeleryWorker",
    "DovecotServer",
    "ReceivedMessage",
    "SmtpSink",
    "WaitTimeout",
    "browser",
    "celery_worker_factory",
    "celery_worker_process",
    "database_url",
    "dovecot_server",
    "format_violations",
    "free_port",
    "imap_server",
    "imap_user",
    "page",
    "playwright_instance",
    "pytest_runtest_makereport",
    "run_axe",
    "smtp_server",
    "smtp_sink",
    "static_http_server",
    "unverified_ssl_context",
]


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    """Keep each phase's report on the item so fixtures can tell at teardown if the test failed."""
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


def _failed(request: pytest.FixtureRequest) -> bool:
    return any(
        getattr(getattr(request.node, f"rep_{when}", None), "failed", False) for when in ("setup", "call")
    )


# --- SMTP ----------------------------------------------------------------------------------
@pytest.fixture
def smtp_server() -> Iterator[SmtpSink]:
    with smtp_sink() as sink:
        yield sink


# --- IMAP ----------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def imap_server() -> Iterator[DovecotServer]:
    if not dovecot_available():
        pytest.skip("dovecot is not installed (run .ci/install-system-deps.sh)")
    with dovecot_server(with_ssl=True) as server:
        yield server


@pytest.fixture
def imap_user(imap_server: DovecotServer, request: pytest.FixtureRequest) -> Iterator[tuple[str, str]]:
    """A fresh account per test, so tests sharing the session server never see each other's mail."""
    name = f"user{uuid.uuid4().hex[:10]}"
    password = uuid.uuid4().hex
    imap_server.add_user(name, password)
    yield name, password
    if _failed(request):
        print(f"\n----- dovecot log tail ({imap_server.log_path}) -----\n{imap_server.log_tail()}")


# --- Celery --------------------------------------------------------------------------------
@pytest.fixture
def celery_worker_factory(
    tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[Callable[..., CeleryWorker]]:
    """``start(app_module="helpdesk_site", *, env=None, queues=(), beat=False, ...)`` -> running worker."""
    workers: list[CeleryWorker] = []

    def start(app_module: str = "helpdesk_site", **kwargs) -> CeleryWorker:
        log_path = tmp_path / f"celery-worker-{len(workers)}.log"
        worker = CeleryWorker(app_module, log_path=log_path, **kwargs)
        workers.append(worker)
        worker.start()
        return worker

    yield start
    failed = _failed(request)
    for worker in workers:
        worker.stop()
        if failed:
            print(f"\n----- celery worker log tail ({worker.log_path}) -----\n{worker.log_tail()}")


# --- Browser -------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def playwright_instance():
    if not chromium_available():
        pytest.skip(f"Chromium not found at {CHROMIUM} (run .ci/install-system-deps.sh)")
    from playwright.sync_api import sync_playwright

    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # see the module docstring
    playwright = sync_playwright().start()
    yield playwright
    playwright.stop()
    if previous is None:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    else:
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture(scope="session")
def browser(playwright_instance):
    browser = launch_chromium(playwright_instance)
    yield browser
    browser.close()


@pytest.fixture
def page(browser, tmp_path: Path, request: pytest.FixtureRequest):
    context = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    yield page
    if _failed(request):
        shot = tmp_path / "failure.png"
        page.screenshot(path=str(shot), full_page=True)
        print(f"\n----- page {page.url} at failure: screenshot {shot} -----")
    # Stop the page's polling (presence, new messages) and let a request already in flight finish before
    # the test database is flushed: a live-server request holding table locks mid-flush deadlocks it.
    page.goto("about:blank")
    context.close()
    time.sleep(0.5)
