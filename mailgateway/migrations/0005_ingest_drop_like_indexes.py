"""Drop the varchar_pattern_ops ("_like") indexes PostgreSQL gets for unique CharFields.

Django adds them for LIKE 'prefix%' lookups; dedupe_key and message_id_header are only ever looked up by
equality (the admin's icontains search compiles to UPPER(...) LIKE '%...%', which they cannot serve), so
they were three long-key index entries written per mail for nothing. The unique indexes stay. Django
drops these indexes with IF EXISTS when it alters the fields, so later migrations are unaffected.
"""

from django.db import migrations

INDEXES = [
    ("mailgateway_inboundemail_dedupe_key_62e2477b_like", "mailgateway_inboundemail", "dedupe_key"),
    ("mailgateway_outboundemail_dedupe_key_1f2dbc37_like", "mailgateway_outboundemail", "dedupe_key"),
    ("mailgateway_outboundemail_message_id_header_acb2a1c4_like", "mailgateway_outboundemail", "message_id_header"),
]


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for name, _table, _column in INDEXES:
            schema_editor.execute(f'DROP INDEX IF EXISTS "{name}"')


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for name, table, column in INDEXES:
            schema_editor.execute(f'CREATE INDEX IF NOT EXISTS "{name}" ON "{table}" ("{column}" varchar_pattern_ops)')


class Migration(migrations.Migration):
    dependencies = [("mailgateway", "0004_ingest_lz4")]

    operations = [migrations.RunPython(drop, create, elidable=True)]
