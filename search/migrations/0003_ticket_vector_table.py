"""The search vectors move from two columns of tickets_ticket to search_ticketvector (search.sql).

On PostgreSQL the existing vectors are copied in one INSERT ... SELECT (no text is parsed again), then the
columns are dropped, and the indexes are built on the full table. At 1,000,000 tickets (plus the SLA
benchmark's filler, 1,978,023 rows) this took 35-46 s on the shared 2 cores (docs/search.md); the ticket
table is locked for writes meanwhile. Then VACUUM ANALYZE search_ticketvector. The dropped columns' space
is reused as tickets are updated (or at once by VACUUM FULL tickets_ticket, in a quiet hour).
"""

import django.db.models.deletion
from django.db import migrations, models

import search.query
from search import sql
from helpdesk_site.migration_ops import PostgresRunSQL

from . import _sql_0002 as v2
from . import _sql_0003 as v3

FORWARD = f"""
{v2.DROP_TRIGGERS}
{v3.FUNCTIONS}
SET LOCAL maintenance_work_mem = '512MB';
INSERT INTO {sql.TABLE} (ticket_id, department_id, created_at, updated_at, active, public, notes)
SELECT id, department_id, created_at, updated_at, status IN {sql.ACTIVE_SQL}, search_public, search_notes
FROM tickets_ticket;
{v2.DROP_COLUMNS}
{sql.FOREIGN_KEY}
{sql.INDEXES}
{v3.TRIGGERS}
ANALYZE {sql.TABLE};
"""

BACKWARD = f"""
{sql.DROP_TRIGGERS}
{sql.DROP_INDEXES}
{sql.DROP_FOREIGN_KEY}
{v2.COLUMNS}
UPDATE tickets_ticket t SET search_public = v.public, search_notes = v.notes
FROM {sql.TABLE} v WHERE v.ticket_id = t.id;
{v2.FUNCTIONS}
{v2.TRIGGERS}
{v2.INDEXES}
"""


class Migration(migrations.Migration):
    dependencies = [
        ("search", "0002_search_vectors"),
        ("tickets", "0006_lean_ticket_indexes"),
    ]

    operations = [
        migrations.CreateModel(
            name="TicketVector",
            fields=[
                (
                    "ticket",
                    models.OneToOneField(
                        db_constraint=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        primary_key=True,
                        related_name="search_vector",
                        serialize=False,
                        to="tickets.ticket",
                    ),
                ),
                ("department_id", models.BigIntegerField()),
                ("created_at", models.DateTimeField()),
                ("updated_at", models.DateTimeField()),
                ("active", models.BooleanField()),
                ("public", search.query.TSVectorField(null=True)),
                ("notes", search.query.TSVectorField(null=True)),
            ],
            options={
                "db_table": "search_ticketvector",
                "default_permissions": (),
            },
        ),
        PostgresRunSQL(FORWARD, BACKWARD),
    ]
