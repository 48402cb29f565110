"""Poll every active IMAP mailbox now, in this process (what the beat task does through the worker)."""

from django.core.management.base import BaseCommand

from mailgateway import imap
from mailgateway.models import Mailbox


class Command(BaseCommand):
    help = "Fetch new mail from all active IMAP mailboxes once and print each mailbox's result."

    def handle(self, *args, **options):
        names = dict(Mailbox.objects.values_list("pk", "name"))
        failed = 0
        for mailbox_id, result in imap.poll_all().items():
            self.stdout.write(f"{names.get(mailbox_id, mailbox_id)}: {result}")
            failed += result == "failed"
        if failed:
            raise SystemExit(1)
