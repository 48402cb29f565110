"""Headless Chromium (Debian's, via Playwright) and accessibility checks with vendored axe-core."""

from __future__ import annotations

import functools
import os
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from ._net import LOOPBACK

CHROMIUM = os.environ.get("E2E_CHROMIUM", "/usr/bin/chromium")
# Flags keep Chromium from phoning home (there is no internet) and make it work as root in a container.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
AXE_PATH = Path(__file__).parent / "vendor" / "axe.min.js"
BLOCKING_IMPACTS = ("serious", "critical")


def chromium_available() -> bool:
    return Path(CHROMIUM).exists()


def launch_chromium(playwright, **kwargs):
    """Launch the system Chromium; ``playwright install`` is never needed (or allowed) here."""
    return playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS, **kwargs)


@functools.cache
def _axe_source() -> str:
    return AXE_PATH.read_text()


def run_axe(page, *, impacts: Sequence[str] = BLOCKING_IMPACTS, options: dict | None = None) -> list[dict]:
    """Run axe-core on the current page; return violations whose impact is in ``impacts``.

    The script is evaluated through the DevTools protocol rather than added as a <script>
    tag, so it also works on pages served with a strict Content-Security-Policy.
    """
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(_axe_source())
    result = page.evaluate("(options) => window.axe.run(document, options)", options or {})
    return [v for v in result["violations"] if v.get("impact") in impacts]


def format_violations(violations: list[dict]) -> str:
    """A readable summary for assertion messages: rule, impact, offending selectors."""
    lines = []
    for violation in violations:
        targets = [" ".join(map(str, node["target"])) for node in violation["nodes"]]
        lines.append(f"{violation['id']} ({violation['impact']}): {violation['help']} -> {targets}")
    return "\n".join(lines)


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format, *args) -> None:
        pass


@contextmanager
def static_http_server(directory: Path) -> Iterator[str]:
    """Serve ``directory`` over HTTP on a free loopback port; yields the base URL."""
    handler = functools.partial(_QuietHandler, directory=str(directory))
    server = ThreadingHTTPServer((LOOPBACK, 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://{LOOPBACK}:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
