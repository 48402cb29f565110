from django.db import migrations

from helpdesk_site.migration_ops import PostgresRunSQL

from . import _sql_0002 as sql


class Migration(migrations.Migration):
    dependencies = [
        ("search", "0001_search_initial"),
        ("tickets", "0003_sla_state"),
    ]

    operations = [
        PostgresRunSQL(sql.COLUMNS, sql.DROP_COLUMNS),
        PostgresRunSQL(sql.FUNCTIONS, sql.DROP_FUNCTIONS),
        PostgresRunSQL(sql.TRIGGERS, sql.DROP_TRIGGERS),
        PostgresRunSQL(sql.fill_sql(0, 2**62), migrations.RunSQL.noop),
        PostgresRunSQL(sql.INDEXES, sql.DROP_INDEXES),
    ]
