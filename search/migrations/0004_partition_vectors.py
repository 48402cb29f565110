"""search_ticketvector partitioned by department (search.sql.PARTITIONS hash partitions): a search within
a department reads only its partition's GIN index. The rows are copied over (no text is parsed again).
At 1,000,000 tickets plus the SLA benchmark's filler (1,978,023 rows) this took about 20-40 s on 2 cores;
writes to tickets wait meanwhile (the triggers write this table)."""

from django.db import migrations

from search import sql
from helpdesk_site.migration_ops import PostgresRunSQL

T = sql.TABLE


def _swap(new_table: str, key: str, ticket_index: str) -> str:
    return f"""
{sql.DROP_FOREIGN_KEY}
{sql.DROP_INDEXES}
{sql.DROP_TICKET_INDEX}
ALTER TABLE {T} RENAME TO {T}_old;
ALTER TABLE {T}_old RENAME CONSTRAINT {T}_pkey TO {T}_old_pkey;
{new_table}
SET LOCAL maintenance_work_mem = '512MB';
INSERT INTO {T} ({sql.COLUMNS_SQL}) SELECT {sql.COLUMNS_SQL} FROM {T}_old;
DROP TABLE {T}_old;
{key}
{ticket_index}
{sql.INDEXES}
{sql.FOREIGN_KEY}
ANALYZE {T};
"""


class Migration(migrations.Migration):
    dependencies = [("search", "0003_ticket_vector_table")]

    operations = [
        PostgresRunSQL(
            _swap(sql.PARTITIONED_TABLE, sql.PARTITIONED_KEY, sql.TICKET_INDEX),
            _swap(sql.PLAIN_TABLE, "", ""),
        ),
    ]
