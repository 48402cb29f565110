"""lz4 instead of pglz for the raw inbound mail and the outbox bodies (helpdesk_site.migration_ops)."""

from django.db import migrations

from helpdesk_site.migration_ops import toast_compression


class Migration(migrations.Migration):
    dependencies = [("mailgateway", "0003_outbound_bounced")]

    operations = [
        toast_compression(
            {"mailgateway_inboundemail": ["raw"], "mailgateway_outboundemail": ["body_text", "body_html"]}
        )
    ]
