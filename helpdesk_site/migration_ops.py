"""Migration operations shared by the apps' migrations."""

from django.db import migrations


class PostgresRunSQL(migrations.RunSQL):
    """RunSQL that applies on PostgreSQL only, for the objects only PostgreSQL has (full-text search
    triggers and tables, the SLA clock's triggers); the embedded SQLite default needs none of them (search
    falls back to substring matching, the sweep reads the ticket column)."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_backwards(app_label, schema_editor, from_state, to_state)


def toast_compression(columns: dict[str, list[str]]) -> migrations.RunPython:
    """lz4 instead of pglz for these large columns (table -> columns): every INSERT of a several-KB value
    compresses it for TOAST, and pglz spends about twice lz4's CPU on it (benchmarks/ingest.md). Only new
    values are compressed with lz4; existing rows stay readable. A no-op off PostgreSQL and on a server
    built without lz4; reversed by going back to pglz."""

    def setter(method: str):
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
                for table, names in columns.items():
                    sets = ", ".join(f'ALTER COLUMN "{c}" SET COMPRESSION {method}' for c in names)
                    cursor.execute(f'ALTER TABLE "{table}" {sets}')

        return apply

    return migrations.RunPython(setter("lz4"), setter("pglz"), elidable=True)
