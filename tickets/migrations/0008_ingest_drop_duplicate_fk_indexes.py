"""Drop the single-column indexes of Message.ticket, Message.author and TicketEvent.ticket.

message_ticket_idx (ticket, created_at), message_author_idx (author, kind, created_at) and
event_ticket_idx (ticket, created_at) lead with the same columns and serve every lookup the duplicates
did; each message and event INSERT (one of each per incoming mail) paid for three extra index entries.
Only the indexes are dropped: Django's AlterField would also drop and re-create (and so re-validate over
the whole table) the foreign-key constraints.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


INDEXES = [
    ("tickets_message_author_id_e13a9dd8", "tickets_message", "author_id"),
    ("tickets_message_ticket_id_a1134910", "tickets_message", "ticket_id"),
    ("tickets_ticketevent_ticket_id_b572d14b", "tickets_ticketevent", "ticket_id"),
]


class Migration(migrations.Migration):

    dependencies = [
        ("tickets", "0007_ingest_lz4"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    state_operations = [
        migrations.AlterField(
            model_name="message",
            name="author",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="messages",
                to=settings.AUTH_USER_MODEL,
                verbose_name="author",
            ),
        ),
        migrations.AlterField(
            model_name="message",
            name="ticket",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="messages",
                to="tickets.ticket",
            ),
        ),
        migrations.AlterField(
            model_name="ticketevent",
            name="ticket",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="events",
                to="tickets.ticket",
            ),
        ),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=state_operations,
            database_operations=[
                migrations.RunSQL(
                    f"DROP INDEX IF EXISTS {name}", f"CREATE INDEX IF NOT EXISTS {name} ON {table} ({column})"
                )
                for name, table, column in INDEXES
            ],
        )
    ]
