"""MTA pipe: `ingest_email FILE ...` or `ingest_email -` (one message on stdin).

Prints one JSON line per message. Exits non-zero only when a message could not be stored: once it is
stored it is never lost (a processing failure is a quarantined row, reported with action
"quarantined", and retried from the admin).
"""

import json
import logging
import sys

from django.core.management.base import BaseCommand

from mailgateway import services

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = "Store and process raw RFC 5322 messages from files or stdin ('-'), printing one JSON line each."

    def add_arguments(self, parser):
        parser.add_argument("files", nargs="*", default=["-"], help="Message files; '-' reads stdin.")
        parser.add_argument("--source", default="pipe", help="Recorded as the message's source.")
        parser.add_argument(
            "--no-process", action="store_true", help="Only store; the worker or the sweep processes later."
        )

    def handle(self, *args, **options):
        unstored = 0
        for name in options["files"] or ["-"]:
            line = self.ingest(name, options["source"], process=not options["no_process"])
            unstored += line["action"] is None
            self.stdout.write(json.dumps(line, ensure_ascii=False))
        if unstored:
            sys.exit(75)  # EX_TEMPFAIL: the MTA keeps the message and tries again later

    def ingest(self, name: str, source: str, *, process: bool) -> dict:
        try:
            raw = sys.stdin.buffer.read() if name == "-" else open(name, "rb").read()  # noqa: SIM115
            row, created = services.store_raw(raw, source=source)
        except Exception as exc:  # noqa: BLE001 - reported as a line, and in the exit status
            return _unstored(name, exc)
        if created and process:
            try:
                services.process_inbound(row.pk)
            except Exception:  # noqa: BLE001 - stored is what counts: the worker's sweep will process it
                logger.exception("Inline processing of inbound email %s failed; left for the sweep", row.pk)
        row.refresh_from_db()
        return services.outcome_json(row, duplicate=not created)


def _unstored(name: str, exc: Exception) -> dict:
    return {
        "message_id": None,
        "action": None,
        "ticket": None,
        "department": None,
        "subject": "",
        "from": "",
        "attachments": [],
        "dropped": [],
        "error": f"could not store {name}: {type(exc).__name__}: {exc}",
    }
