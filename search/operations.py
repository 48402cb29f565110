from django.db import migrations


class PostgresRunSQL(migrations.RunSQL):
    """RunSQL that applies on PostgreSQL only; elsewhere (the embedded SQLite default) search falls back
    to substring matching and needs no database objects."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_backwards(app_label, schema_editor, from_state, to_state)
