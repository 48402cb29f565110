"""Fill the report figures (first response, resolution, reply wait, department of each reply) of tickets
that existed before they were stored. Migration 0004_report_times already filled them in wall-clock time;
run this once to add business hours (and after a department's business hours changed, with --all)."""

from django.core.management.base import BaseCommand

from sla.selectors import calendar_for
from tickets.models import Message, Rating, Ticket, TicketEvent
from tickets.report_backfill import backfill, backfill_ratings


class Command(BaseCommand):
    help = "Recompute the stored report times of existing tickets (business hours included)."

    def add_arguments(self, parser):
        parser.add_argument("--all", action="store_true", help="Every ticket, not only those without figures.")
        parser.add_argument("--batch", type=int, default=500)

    def handle(self, *args, all: bool, batch: int, **options):
        def progress(done: int) -> None:
            self.stdout.write(f"\r{done} tickets", ending="")
            self.stdout.flush()

        done = backfill(
            Ticket, Message, TicketEvent, calendar_for=calendar_for, batch=batch, progress=progress,
            only_missing=not all,
        )
        rated = backfill_ratings(Rating, Message)
        self.stdout.write(f"\nbackfilled {done} tickets and {rated} ratings")
