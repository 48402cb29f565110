"""Fill Message.shown_html / quoted_html for messages stored before those columns existed.

Pages render such messages on the fly, so this is optional; it makes their ticket pages as fast as new
ones. Batches by primary key, each in its own short transaction; safe to interrupt and run again.
"""

from django.core.management.base import BaseCommand
from django.db import transaction

from tickets.message_body import stored_fields
from tickets.models import Message


class Command(BaseCommand):
    help = "Render and store the timeline HTML of messages that do not have it yet."

    def add_arguments(self, parser):
        parser.add_argument("--batch", type=int, default=1000)

    def handle(self, *args, batch: int, **options):
        done, last = 0, 0
        while True:
            rows = list(
                Message.objects.filter(pk__gt=last, shown_html__isnull=True)
                .order_by("pk")
                .values_list("pk", "body_text", "body_html")[:batch]
            )
            if not rows:
                break
            with transaction.atomic():
                for pk, text, html in rows:
                    Message.objects.filter(pk=pk).update(**stored_fields(text, html))
            done += len(rows)
            last = rows[-1][0]
        self.stdout.write(f"{done} messages rendered")
