"""The PostgreSQL side of full-text search: the table search_ticketvector (one row per ticket: its two
tsvectors and copies of the ticket columns the common searches filter and sort on), kept current by
triggers, and its GIN indexes. Used by the migrations (forward and reverse) and by generate_dataset.

- public: the subject (weight A) and every customer message and agent reply: what the customer may
  search too.
- notes: internal notes, searched by agents only (NULL while a ticket has none).
- department_id, created_at, updated_at, active (status new, open or pending): copies of the ticket's,
  so that text + department + dates (+ "any open"), sorted by relevance or date, is answered from this
  table alone (search.selectors.search_matches); only the page's rows are read from tickets_ticket.

Why not columns of tickets_ticket (as until migration 0003): every non-HOT update of a ticket (the SLA
sweep's, a status change, a reply) inserted the whole of both vectors into the two GIN indexes again,
and every new message rewrote the wide ticket row. Here a ticket update that changes none of the copied
columns does not touch this table, and a new message rewrites this narrow row only.

These objects are created by migration 0003 from this module: changing them needs a new migration, with
the SQL it replaces frozen beside it (as search/migrations/_sql_0002.py is for 0002).

helpdesk_search_vector() is the single place that decides the text search configurations: 'simple'
(exact word forms, stop words included), 'russian' (Russian Snowball stemmer for Cyrillic words and the
English one for ASCII words, so one parse stems both languages) and, for text that looks German, 'german'.
Their lexemes are concatenated; a query is built with all three (search.query), so any form of a word in
any of these languages meets its stem.
"""

TABLE = "search_ticketvector"
# Every text is parsed with ALWAYS_CONFIGS, German-looking text with GERMAN_CONFIG too (helpdesk_search_vector);
# a query is built with all of CONFIGS (search.query).
ALWAYS_CONFIGS = ("simple", "russian")
GERMAN_CONFIG = "german"
CONFIGS = (*ALWAYS_CONFIGS, GERMAN_CONFIG)
# Headlines parse with one configuration; 'russian' stems Russian and English words, the common case.
HEADLINE_CONFIG = "russian"
# Bodies longer than this are indexed and highlighted by their beginning only (a forwarded log file must
# not make every new message cost a second of parsing).
MAX_BODY = 100_000

PUBLIC_KINDS_SQL = "('customer', 'reply')"
# tickets.choices.ACTIVE_STATUSES, the "any open" filter
ACTIVE_SQL = "('new', 'open', 'pending')"

# The German stemmer runs only over text with a German letter or one of these words (as 'simple' parses
# them: lower case). Each parse is about a third of what indexing a message costs PostgreSQL, and German's
# was the dearest (its stemmer also walks every Cyrillic word); most mail here is Russian or English, which
# 'russian' stems. A German text with none of these (a two-word note) keeps its exact forms ('simple') and
# the English stemmer's, not the German one's. Missing a marker costs stemming, a false one only CPU.
GERMAN_MARKERS = (
    "aber", "auch", "auf", "aus", "bei", "bitte", "dank", "danke", "das", "dass", "dem", "den", "der", "des",
    "die", "ein", "eine", "einem", "einen", "einer", "freundlichen", "geehrte", "geehrter", "habe", "haben",
    "hallo", "ich", "ihnen", "ihr", "ihre", "ist", "kann", "kein", "keine", "mein", "meine", "mit", "nach",
    "nicht", "noch", "oder", "seit", "sehr", "sind", "uns", "unser", "unsere", "und", "vom", "von", "war",
    "weil", "wenn", "werden", "wir", "wird", "wurde", "zum", "zur",
)  # fmt: skip
GERMAN_LETTERS = "ÄÖÜäöüß"

# The markers are tested on the first configuration's parse: it keeps every word form as it is written.
_stemmed = " || ".join(f"to_tsvector('{c}'::regconfig, body)" for c in ALWAYS_CONFIGS[1:])
VECTOR_FUNCTION = f"""
CREATE OR REPLACE FUNCTION helpdesk_search_vector(body text) RETURNS tsvector
    LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
    words tsvector := to_tsvector('{ALWAYS_CONFIGS[0]}'::regconfig, body);
BEGIN
    IF words @@ '{" | ".join(GERMAN_MARKERS)}'::tsquery OR body ~ '[{GERMAN_LETTERS}]' THEN
        RETURN words || {_stemmed} || to_tsvector('{GERMAN_CONFIG}'::regconfig, body);
    END IF;
    RETURN words || {_stemmed};
END $$;
"""

FUNCTIONS = VECTOR_FUNCTION + f"""

CREATE OR REPLACE FUNCTION helpdesk_ticket_public_text(tid bigint) RETURNS text
    LANGUAGE sql STABLE AS $$
    SELECT left(string_agg(m.body_text, E'\\n' ORDER BY m.created_at, m.id), {MAX_BODY} * 10)
    FROM tickets_message m WHERE m.ticket_id = tid AND m.kind IN {PUBLIC_KINDS_SQL} $$;

CREATE OR REPLACE FUNCTION helpdesk_ticket_notes_text(tid bigint) RETURNS text
    LANGUAGE sql STABLE AS $$
    SELECT left(string_agg(m.body_text, E'\\n' ORDER BY m.created_at, m.id), {MAX_BODY} * 10)
    FROM tickets_message m WHERE m.ticket_id = tid AND m.kind = 'note' $$;

-- Both vectors of one ticket from scratch (after an edit, a delete, or a message moved by a merge).
CREATE OR REPLACE FUNCTION helpdesk_ticket_search_refresh(tid bigint) RETURNS void
    LANGUAGE sql AS $$
    UPDATE {TABLE} v SET
        public = setweight(helpdesk_search_vector(t.subject), 'A')
                 || coalesce(helpdesk_search_vector(helpdesk_ticket_public_text(t.id)), ''::tsvector),
        notes = helpdesk_search_vector(helpdesk_ticket_notes_text(t.id))
    FROM tickets_ticket t
    WHERE v.ticket_id = tid AND t.id = tid $$;

-- INSERT (deferred to the commit, see TRIGGERS): a ticket whose row its first message has not written
-- already (one without messages) gets it now. An update of a copied column or of the subject (see the
-- trigger's WHEN) brings the row up to date; before the row exists it has nothing to do (the row is
-- made from the ticket as it is then).
CREATE OR REPLACE FUNCTION helpdesk_ticket_search_trigger() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        -- The ticket as it is now (NEW is the inserted version: this may run at the commit).
        INSERT INTO {TABLE} (ticket_id, department_id, created_at, updated_at, active, public)
        SELECT t.id, t.department_id, t.created_at, t.updated_at, t.status IN {ACTIVE_SQL},
               setweight(helpdesk_search_vector(t.subject), 'A')
        FROM tickets_ticket t
        WHERE t.id = NEW.id AND NOT EXISTS (SELECT 1 FROM {TABLE} v WHERE v.ticket_id = NEW.id);
    ELSIF OLD.subject IS DISTINCT FROM NEW.subject THEN
        UPDATE {TABLE} SET department_id = NEW.department_id, created_at = NEW.created_at,
            updated_at = NEW.updated_at, active = NEW.status IN {ACTIVE_SQL},
            public = setweight(helpdesk_search_vector(NEW.subject), 'A')
                     || coalesce(helpdesk_search_vector(helpdesk_ticket_public_text(NEW.id)), ''::tsvector)
        WHERE ticket_id = NEW.id;
    ELSE
        UPDATE {TABLE} SET department_id = NEW.department_id, created_at = NEW.created_at,
            updated_at = NEW.updated_at, active = NEW.status IN {ACTIVE_SQL}
        WHERE ticket_id = NEW.id;
    END IF;
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION helpdesk_message_search_trigger() RETURNS trigger
    LANGUAGE plpgsql AS $$
DECLARE
    lexemes tsvector;
BEGIN
    IF TG_OP = 'INSERT' THEN
        -- The common case, a new message: append its lexemes instead of re-reading the conversation.
        -- They are computed here, once, into a variable: inside the UPDATE, PostgreSQL planned a custom
        -- plan for every message (8 partitions) and parsed the body while planning it, also when the
        -- row did not exist.
        IF NEW.kind IN {PUBLIC_KINDS_SQL} THEN
            lexemes := coalesce(helpdesk_search_vector(left(NEW.body_text, {MAX_BODY})), ''::tsvector);
            UPDATE {TABLE} SET public = coalesce(public, ''::tsvector) || lexemes WHERE ticket_id = NEW.ticket_id;
            -- The first message of a new ticket writes the ticket's row whole (the subject's lexemes, then
            -- its own: the vector the subject's row plus this append made), so the row is written once,
            -- not INSERTed by the ticket's trigger and UPDATEd at once here.
            IF NOT FOUND THEN
                INSERT INTO {TABLE} (ticket_id, department_id, created_at, updated_at, active, public)
                SELECT t.id, t.department_id, t.created_at, t.updated_at, t.status IN {ACTIVE_SQL},
                       setweight(helpdesk_search_vector(t.subject), 'A') || lexemes
                FROM tickets_ticket t WHERE t.id = NEW.ticket_id
                ON CONFLICT DO NOTHING;
            END IF;
        ELSIF NEW.kind = 'note' THEN
            lexemes := coalesce(helpdesk_search_vector(left(NEW.body_text, {MAX_BODY})), ''::tsvector);
            UPDATE {TABLE} SET notes = coalesce(notes, ''::tsvector) || lexemes WHERE ticket_id = NEW.ticket_id;
            IF NOT FOUND THEN
                INSERT INTO {TABLE} (ticket_id, department_id, created_at, updated_at, active, public, notes)
                SELECT t.id, t.department_id, t.created_at, t.updated_at, t.status IN {ACTIVE_SQL},
                       setweight(helpdesk_search_vector(t.subject), 'A'), ''::tsvector || lexemes
                FROM tickets_ticket t WHERE t.id = NEW.ticket_id
                ON CONFLICT DO NOTHING;
            END IF;
        END IF;
        RETURN NULL;
    ELSIF TG_OP = 'UPDATE' THEN
        PERFORM helpdesk_ticket_search_refresh(OLD.ticket_id);
        IF NEW.ticket_id <> OLD.ticket_id THEN
            PERFORM helpdesk_ticket_search_refresh(NEW.ticket_id);
        END IF;
        RETURN NULL;
    END IF;
    PERFORM helpdesk_ticket_search_refresh(OLD.ticket_id);
    RETURN NULL;
END $$;
"""

TRIGGERS = f"""
-- A constraint trigger, deferred to the commit: by then the ticket's first message has written its row
-- (ticket_create and ticket_split add one in the same transaction), and this one only checks that.
-- The mail gateway sets constraints IMMEDIATE for its foreign keys and this one DEFERRED again
-- (mailgateway.services._relax_commit); fired at once, it writes the subject's row as before.
CREATE CONSTRAINT TRIGGER helpdesk_ticket_search AFTER INSERT ON tickets_ticket
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION helpdesk_ticket_search_trigger();
-- Not fired by updates that leave these columns alone (the SLA sweep's, say): "UPDATE OF" skips
-- statements that do not set them, the WHEN those that set them to the same values (Django's save()).
CREATE TRIGGER helpdesk_ticket_search_update
    AFTER UPDATE OF subject, department_id, created_at, updated_at, status ON tickets_ticket FOR EACH ROW
    WHEN ((OLD.subject, OLD.department_id, OLD.created_at, OLD.updated_at, OLD.status IN {ACTIVE_SQL})
          IS DISTINCT FROM (NEW.subject, NEW.department_id, NEW.created_at, NEW.updated_at, NEW.status IN {ACTIVE_SQL}))
    EXECUTE FUNCTION helpdesk_ticket_search_trigger();
CREATE TRIGGER helpdesk_message_search_insert AFTER INSERT ON tickets_message
    FOR EACH ROW EXECUTE FUNCTION helpdesk_message_search_trigger();
-- Only changes that alter what is indexed (Django's save() lists every column; created_at moves do not count).
CREATE TRIGGER helpdesk_message_search_update AFTER UPDATE ON tickets_message
    FOR EACH ROW WHEN ((OLD.body_text, OLD.kind, OLD.ticket_id) IS DISTINCT FROM (NEW.body_text, NEW.kind, NEW.ticket_id))
    EXECUTE FUNCTION helpdesk_message_search_trigger();
CREATE TRIGGER helpdesk_message_search_delete AFTER DELETE ON tickets_message
    FOR EACH ROW EXECUTE FUNCTION helpdesk_message_search_trigger();
"""

TRIGGER_NAMES = {
    "tickets_ticket": ("helpdesk_ticket_search", "helpdesk_ticket_search_update"),
    "tickets_message": (
        "helpdesk_message_search_insert",
        "helpdesk_message_search_update",
        "helpdesk_message_search_delete",
    ),
}

DROP_TRIGGERS = "\n".join(
    f"DROP TRIGGER IF EXISTS {name} ON {table};" for table, names in TRIGGER_NAMES.items() for name in names
)

DROP_FUNCTIONS = """
DROP FUNCTION IF EXISTS helpdesk_message_search_trigger();
DROP FUNCTION IF EXISTS helpdesk_ticket_search_trigger();
DROP FUNCTION IF EXISTS helpdesk_ticket_search_refresh(bigint);
DROP FUNCTION IF EXISTS helpdesk_ticket_notes_text(bigint);
DROP FUNCTION IF EXISTS helpdesk_ticket_public_text(bigint);
DROP FUNCTION IF EXISTS helpdesk_search_vector(text);
"""

# The table itself is search.models.TicketVector's (Django creates it and empties it with the others in
# tests); its foreign key is declared here, without Django's constraint, for the ON DELETE CASCADE: a
# deleted ticket takes its row along whatever deleted it.
FOREIGN_KEY = f"""
ALTER TABLE {TABLE} ADD CONSTRAINT search_ticketvector_ticket_fk
    FOREIGN KEY (ticket_id) REFERENCES tickets_ticket (id) ON DELETE CASCADE;
"""
DROP_FOREIGN_KEY = f"ALTER TABLE {TABLE} DROP CONSTRAINT IF EXISTS search_ticketvector_ticket_fk;"

# One statement for a range of tickets: every ticket of the range gets its row, computed from its
# messages. Used by generate_dataset (per batch, with the triggers disabled during the bulk insert).
FILL = f"""
INSERT INTO {TABLE} (ticket_id, department_id, created_at, updated_at, active, public, notes)
SELECT t.id, t.department_id, t.created_at, t.updated_at, t.status IN {ACTIVE_SQL},
       setweight(helpdesk_search_vector(t.subject), 'A') || coalesce(helpdesk_search_vector(m.pub), ''::tsvector),
       helpdesk_search_vector(m.notes)
FROM tickets_ticket t
LEFT JOIN (SELECT ticket_id,
             left(string_agg(body_text, E'\\n' ORDER BY created_at, id) FILTER (WHERE kind IN {PUBLIC_KINDS_SQL}), {MAX_BODY} * 10) AS pub,
             left(string_agg(body_text, E'\\n' ORDER BY created_at, id) FILTER (WHERE kind = 'note'), {MAX_BODY} * 10) AS notes
      FROM tickets_message WHERE ticket_id BETWEEN %(lo)s AND %(hi)s GROUP BY ticket_id) m ON m.ticket_id = t.id
WHERE t.id BETWEEN %(lo)s AND %(hi)s
ON CONFLICT (department_id, ticket_id) DO UPDATE SET
    department_id = EXCLUDED.department_id, created_at = EXCLUDED.created_at, updated_at = EXCLUDED.updated_at,
    active = EXCLUDED.active, public = EXCLUDED.public, notes = EXCLUDED.notes
"""

INDEXES = f"""
CREATE INDEX ticketvector_public_idx ON {TABLE} USING gin (public);
CREATE INDEX ticketvector_notes_idx ON {TABLE} USING gin (notes) WHERE notes IS NOT NULL;
CREATE INDEX ticketvector_dept_created_idx ON {TABLE} (department_id, created_at);
CREATE INDEX ticketvector_dept_updated_idx ON {TABLE} (department_id, updated_at);
CREATE INDEX ticketvector_active_idx ON {TABLE} (department_id) WHERE active;
"""
DROP_INDEXES = """
DROP INDEX IF EXISTS ticketvector_active_idx;
DROP INDEX IF EXISTS ticketvector_dept_updated_idx;
DROP INDEX IF EXISTS ticketvector_dept_created_idx;
DROP INDEX IF EXISTS ticketvector_notes_idx;
DROP INDEX IF EXISTS ticketvector_public_idx;
"""


# Partitioned by department (migration 0004): a text search of one department (or a few) reads only their
# partitions' GIN indexes. A common word's posting list over the whole table was most of a filtered
# search's time (276,000 tickets for "server" at 1M: 50 ms of 85); in its department's partition it is a
# fraction of that. A unique key must include the partition key, hence (department_id, ticket_id); the
# triggers find a ticket's row by ticket_id, through TICKET_INDEX in each partition. A transfer moves the
# row to its new department's partition (an UPDATE of department_id does that).
PARTITIONS = 8
COLUMNS_SQL = "ticket_id, department_id, created_at, updated_at, active, public, notes"
PARTITIONED_TABLE = f"""
CREATE TABLE {TABLE} (
    ticket_id bigint NOT NULL, department_id bigint NOT NULL, created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL, active boolean NOT NULL, public tsvector, notes tsvector
) PARTITION BY HASH (department_id);
""" + "".join(
    f"CREATE TABLE {TABLE}_p{i} PARTITION OF {TABLE} FOR VALUES WITH (MODULUS {PARTITIONS}, REMAINDER {i});\n"
    for i in range(PARTITIONS)
)
PLAIN_TABLE = f"""
CREATE TABLE {TABLE} (
    ticket_id bigint NOT NULL PRIMARY KEY, department_id bigint NOT NULL, created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL, active boolean NOT NULL, public tsvector, notes tsvector
);
"""
PARTITIONED_KEY = f"ALTER TABLE {TABLE} ADD PRIMARY KEY (department_id, ticket_id);"
TICKET_INDEX = f"CREATE INDEX ticketvector_ticket_idx ON {TABLE} (ticket_id);"
DROP_TICKET_INDEX = "DROP INDEX IF EXISTS ticketvector_ticket_idx;"


def fill_sql(lo: int, hi: int) -> list[str]:
    """Statements that compute the rows of tickets lo..hi from their messages (integer bounds only)."""
    return [FILL % {"lo": int(lo), "hi": int(hi)}]
