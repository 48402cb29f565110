"""Migration operations shared by the apps' migrations."""

from django.db import migrations


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
