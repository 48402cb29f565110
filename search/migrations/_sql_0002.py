"""search/sql.py as of migration 0002 (the vectors as columns of tickets_ticket), frozen: 0002 must keep
creating what it created, and 0003 moves the vectors to search_ticketvector (and back, when unapplied).

- search_public: the subject (weight A) and every customer message and agent reply.
- search_notes: internal notes (NULL while a ticket has none).
"""

CONFIGS = ("simple", "russian", "german")
# Headlines parse with one configuration; 'russian' stems Russian and English words, the common case.
HEADLINE_CONFIG = "russian"
# Bodies longer than this are indexed and highlighted by their beginning only (a forwarded log file must
# not make every new message cost a second of parsing).
MAX_BODY = 100_000

PUBLIC_KINDS_SQL = "('customer', 'reply')"

_vector = " || ".join(f"to_tsvector('{c}'::regconfig, body)" for c in CONFIGS)

FUNCTIONS = f"""
CREATE OR REPLACE FUNCTION helpdesk_search_vector(body text) RETURNS tsvector
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$ SELECT {_vector} $$;

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
    UPDATE tickets_ticket t SET
        search_public = setweight(helpdesk_search_vector(t.subject), 'A')
                        || coalesce(helpdesk_search_vector(helpdesk_ticket_public_text(t.id)), ''::tsvector),
        search_notes = helpdesk_search_vector(helpdesk_ticket_notes_text(t.id))
    WHERE t.id = tid $$;

CREATE OR REPLACE FUNCTION helpdesk_ticket_search_trigger() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        NEW.search_public := setweight(helpdesk_search_vector(NEW.subject), 'A');
    ELSE  -- the subject changed (see the trigger's WHEN)
        NEW.search_public := setweight(helpdesk_search_vector(NEW.subject), 'A')
            || coalesce(helpdesk_search_vector(helpdesk_ticket_public_text(NEW.id)), ''::tsvector);
    END IF;
    RETURN NEW;
END $$;

CREATE OR REPLACE FUNCTION helpdesk_message_search_trigger() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        -- The common case, a new message: append its lexemes instead of re-reading the conversation.
        IF NEW.kind IN {PUBLIC_KINDS_SQL} THEN
            UPDATE tickets_ticket SET search_public = coalesce(search_public, ''::tsvector)
                || coalesce(helpdesk_search_vector(left(NEW.body_text, {MAX_BODY})), ''::tsvector)
            WHERE id = NEW.ticket_id;
        ELSIF NEW.kind = 'note' THEN
            UPDATE tickets_ticket SET search_notes = coalesce(search_notes, ''::tsvector)
                || coalesce(helpdesk_search_vector(left(NEW.body_text, {MAX_BODY})), ''::tsvector)
            WHERE id = NEW.ticket_id;
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

TRIGGERS = """
CREATE TRIGGER helpdesk_ticket_search BEFORE INSERT ON tickets_ticket
    FOR EACH ROW EXECUTE FUNCTION helpdesk_ticket_search_trigger();
CREATE TRIGGER helpdesk_ticket_search_subject BEFORE UPDATE OF subject ON tickets_ticket
    FOR EACH ROW WHEN (OLD.subject IS DISTINCT FROM NEW.subject)
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
    "tickets_ticket": ("helpdesk_ticket_search", "helpdesk_ticket_search_subject"),
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

COLUMNS = """
ALTER TABLE tickets_ticket ADD COLUMN search_public tsvector, ADD COLUMN search_notes tsvector;
"""
DROP_COLUMNS = "ALTER TABLE tickets_ticket DROP COLUMN IF EXISTS search_public, DROP COLUMN IF EXISTS search_notes;"

# One statement for a range of tickets: used by the migration (all rows) and generate_dataset (per batch,
# with the triggers disabled during the bulk insert).
FILL = f"""
UPDATE tickets_ticket t SET
    search_public = setweight(helpdesk_search_vector(t.subject), 'A') || coalesce(helpdesk_search_vector(m.pub), ''::tsvector),
    search_notes = helpdesk_search_vector(m.notes)
FROM (SELECT ticket_id,
             left(string_agg(body_text, E'\\n' ORDER BY created_at, id) FILTER (WHERE kind IN {PUBLIC_KINDS_SQL}), {MAX_BODY} * 10) AS pub,
             left(string_agg(body_text, E'\\n' ORDER BY created_at, id) FILTER (WHERE kind = 'note'), {MAX_BODY} * 10) AS notes
      FROM tickets_message WHERE ticket_id BETWEEN %(lo)s AND %(hi)s GROUP BY ticket_id) m
WHERE t.id = m.ticket_id
"""
FILL_NO_MESSAGES = """
UPDATE tickets_ticket t SET search_public = setweight(helpdesk_search_vector(t.subject), 'A')
WHERE t.id BETWEEN %(lo)s AND %(hi)s AND t.search_public IS NULL
"""

INDEXES = """
CREATE INDEX ticket_search_public_idx ON tickets_ticket USING gin (search_public);
CREATE INDEX ticket_search_notes_idx ON tickets_ticket USING gin (search_notes) WHERE search_notes IS NOT NULL;
"""
DROP_INDEXES = """
DROP INDEX IF EXISTS ticket_search_notes_idx;
DROP INDEX IF EXISTS ticket_search_public_idx;
"""


def fill_sql(lo: int, hi: int) -> list[str]:
    """Statements that compute both vectors of tickets lo..hi from their messages (integer bounds only)."""
    bounds = {"lo": int(lo), "hi": int(hi)}
    return [FILL % bounds, FILL_NO_MESSAGES % bounds]
