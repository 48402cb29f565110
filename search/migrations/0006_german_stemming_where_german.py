"""helpdesk_search_vector() runs the German stemmer only over text that looks German (a German letter or
a common German word; see search.sql.GERMAN_MARKERS); other text gets 'simple' and 'russian' as before.
Each configuration is a full parse of the text: the German one was a third of PostgreSQL's indexing work
per message, for mail that is mostly Russian and English.

Only the function changes: rows already indexed keep their vectors (with the German lexemes, which do no
harm), new ones are indexed the new way; milliseconds at any size. Reversible: the 0005 function."""

from django.db import migrations

from helpdesk_site.migration_ops import PostgresRunSQL
from search import sql

# The function as 0003 and 0005 created it, frozen.
THREE_CONFIGURATIONS = """
CREATE OR REPLACE FUNCTION helpdesk_search_vector(body text) RETURNS tsvector
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$ SELECT to_tsvector('simple'::regconfig, body)
    || to_tsvector('russian'::regconfig, body) || to_tsvector('german'::regconfig, body) $$;
"""


class Migration(migrations.Migration):
    dependencies = [("search", "0005_one_row_write_per_new_ticket")]

    operations = [PostgresRunSQL(sql.VECTOR_FUNCTION, THREE_CONFIGURATIONS)]
