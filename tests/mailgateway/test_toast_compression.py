"""The large mail columns are compressed with lz4 where the server has it (helpdesk_site.migration_ops)."""

import pytest
from django.db import connection

COLUMNS = {
    ("mailgateway_inboundemail", "raw"),
    ("mailgateway_outboundemail", "body_text"),
    ("mailgateway_outboundemail", "body_html"),
    ("tickets_message", "body_text"),
    ("tickets_message", "body_html"),
    ("tickets_message", "shown_html"),
    ("tickets_message", "quoted_html"),
}


@pytest.mark.django_db
def test_large_columns_use_lz4():
    with connection.cursor() as cursor:
        cursor.execute("SELECT 'lz4' = ANY(enumvals) FROM pg_settings WHERE name = 'default_toast_compression'")
        if not cursor.fetchone()[0]:
            pytest.skip("this PostgreSQL has no lz4")
        cursor.execute(
            "SELECT c.relname, a.attname FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid"
            " WHERE a.attcompression = 'l' AND c.relname = ANY(%s)",
            [sorted({table for table, _ in COLUMNS})],
        )
        assert set(cursor.fetchall()) == COLUMNS
