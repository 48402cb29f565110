"""sla_clock: the sweep's index of running clocks, off the ticket table (sla.sql explains why), filled from
the tickets in one INSERT ... SELECT and kept by triggers; the ticket table gets room for HOT updates
(fillfactor 90, for pages written from now on; VACUUM FULL tickets_ticket applies it to all, in a quiet hour)."""

import django.db.models.deletion
from django.db import migrations, models

from helpdesk_site.migration_ops import PostgresRunSQL
from sla import sql


class Migration(migrations.Migration):

    dependencies = [
        ('sla', '0002_notice'),
        ('tickets', '0009_drop_sla_check_idx'),
    ]

    operations = [
        migrations.CreateModel(
            name='Clock',
            fields=[
                ('ticket', models.OneToOneField(db_constraint=False, on_delete=django.db.models.deletion.DO_NOTHING, primary_key=True, related_name='+', serialize=False, to='tickets.ticket')),
                ('check_at', models.DateTimeField()),
            ],
            options={
                'db_table': 'sla_clock',
                'default_permissions': (),
                'indexes': [models.Index(fields=['check_at'], name='sla_clock_check_idx')],
            },
        ),
        PostgresRunSQL(sql.FUNCTIONS, sql.DROP_FUNCTIONS),
        PostgresRunSQL(sql.FILL, migrations.RunSQL.noop),
        PostgresRunSQL(sql.FOREIGN_KEY, sql.DROP_FOREIGN_KEY),
        PostgresRunSQL(sql.TRIGGERS, sql.DROP_TRIGGERS),
        PostgresRunSQL(sql.FILLFACTOR, sql.RESET_FILLFACTOR),
    ]
