"""search/sql.py's trigger functions and triggers as of migration 0003 (unchanged by 0004), frozen: 0003 must
keep creating what it created, and 0005 replaces them (and puts these back, when unapplied).

In this version a new ticket's row is INSERTed by the ticket's AFTER INSERT trigger (the subject's lexemes)
and UPDATEd at once by its first message's trigger; 0005 writes it once.
"""

TABLE = "search_ticketvector"
CONFIGS = ("simple", "russian", "german")
MAX_BODY = 100_000
PUBLIC_KINDS_SQL = "('customer', 'reply')"
ACTIVE_SQL = "('new', 'open', 'pending')"

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
    UPDATE {TABLE} v SET
        public = setweight(helpdesk_search_vector(t.subject), 'A')
                 || coalesce(helpdesk_search_vector(helpdesk_ticket_public_text(t.id)), ''::tsvector),
        notes = helpdesk_search_vector(helpdesk_ticket_notes_text(t.id))
    FROM tickets_ticket t
    WHERE v.ticket_id = tid AND t.id = tid $$;

-- A new ticket gets its row (the subject's lexemes; messages follow); an update of a copied column or
-- of the subject (see the trigger's WHEN) brings the row up to date.
CREATE OR REPLACE FUNCTION helpdesk_ticket_search_trigger() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO {TABLE} (ticket_id, department_id, created_at, updated_at, active, public)
        VALUES (NEW.id, NEW.department_id, NEW.created_at, NEW.updated_at, NEW.status IN {ACTIVE_SQL},
                setweight(helpdesk_search_vector(NEW.subject), 'A'));
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
BEGIN
    IF TG_OP = 'INSERT' THEN
        -- The common case, a new message: append its lexemes instead of re-reading the conversation.
        IF NEW.kind IN {PUBLIC_KINDS_SQL} THEN
            UPDATE {TABLE} SET public = coalesce(public, ''::tsvector)
                || coalesce(helpdesk_search_vector(left(NEW.body_text, {MAX_BODY})), ''::tsvector)
            WHERE ticket_id = NEW.ticket_id;
        ELSIF NEW.kind = 'note' THEN
            UPDATE {TABLE} SET notes = coalesce(notes, ''::tsvector)
                || coalesce(helpdesk_search_vector(left(NEW.body_text, {MAX_BODY})), ''::tsvector)
            WHERE ticket_id = NEW.ticket_id;
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
CREATE TRIGGER helpdesk_ticket_search AFTER INSERT ON tickets_ticket
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
