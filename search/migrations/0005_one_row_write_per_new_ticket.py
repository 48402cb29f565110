"""A new ticket's search_ticketvector row is written once, by its first message's trigger (the subject's
lexemes and the message's, as the row INSERTed by the ticket's trigger and then UPDATEd by the message's
made them), instead of INSERTed by the ticket's trigger and UPDATEd at once. The ticket's trigger becomes a
constraint trigger deferred to the commit that writes the subject's row of a ticket without messages. The
message trigger computes the lexemes once into a variable (no custom plan per message). The two vectors
are TOAST-compressed with lz4 instead of pglz (new values only; about the same size, less CPU per write).

Only functions, triggers and column settings change (search.sql; the replaced ones are
search/migrations/_sql_0003.py): no row is read or written, so this takes milliseconds at any size (it
waits for the writes to tickets and messages running at that moment: CREATE TRIGGER's and ALTER TABLE's
locks). Reversible: the 0003 functions and triggers, pglz."""

from django.db import migrations

from helpdesk_site.migration_ops import PostgresRunSQL, toast_compression
from search import sql

from . import _sql_0003 as v3

FORWARD = f"""
{sql.DROP_TRIGGERS}
{sql.FUNCTIONS}
{sql.TRIGGERS}
"""

BACKWARD = f"""
{sql.DROP_TRIGGERS}
{v3.FUNCTIONS}
{v3.TRIGGERS}
"""


class Migration(migrations.Migration):
    dependencies = [("search", "0004_partition_vectors")]

    operations = [
        PostgresRunSQL(FORWARD, BACKWARD),
        # On the parent (future partitions) and on each partition: SET COMPRESSION does not recurse.
        toast_compression(
            {
                t: ["public", "notes"]
                for t in [sql.TABLE, *(f"{sql.TABLE}_p{i}" for i in range(sql.PARTITIONS))]
            }
        ),
    ]
