"""lz4 instead of pglz for the large message columns (helpdesk_site.migration_ops)."""

from django.db import migrations

from helpdesk_site.migration_ops import toast_compression


class Migration(migrations.Migration):
    dependencies = [("tickets", "0006_lean_ticket_indexes")]

    operations = [toast_compression({"tickets_message": ["body_text", "body_html", "shown_html", "quoted_html"]})]
