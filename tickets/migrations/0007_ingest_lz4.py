"""lz4 instead of pglz for the large message columns (PostgreSQL 14+ built with lz4; elsewhere a no-op).

Mail bodies are 5-20 KB, so every INSERT compresses them for TOAST; pglz spends about twice lz4's CPU on
it (benchmarks/ingest.md). Only new values are compressed with lz4; existing rows stay readable as they are.
"""

from django.db import migrations

COLUMNS = {"tickets_message": ["body_text", "body_html", "shown_html", "quoted_html"]}


def _set(method):
    def apply(apps, schema_editor):
        connection = schema_editor.connection
        if connection.vendor != "postgresql":
            return
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT 1 FROM pg_settings WHERE name = 'default_toast_compression' AND %s = ANY(enumvals)",
                [method],
            )
            if cursor.fetchone() is None:  # a server built without lz4
                return
            for table, columns in COLUMNS.items():
                sets = ", ".join(f'ALTER COLUMN "{c}" SET COMPRESSION {method}' for c in columns)
                cursor.execute(f'ALTER TABLE "{table}" {sets}')

    return apply


class Migration(migrations.Migration):
    dependencies = [("tickets", "0006_lean_ticket_indexes")]

    operations = [migrations.RunPython(_set("lz4"), _set("pglz"), elidable=True)]
