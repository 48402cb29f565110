# ruff: noqa: S608 - SQL built from constants of this module, no input
"""The sweep's index of running clocks, sla_clock (PostgreSQL only): one row (ticket, next check) per
ticket whose sla_check_at is set, kept equal to the ticket's column by triggers.

Why a table and not an index on tickets_ticket.sla_check_at: every sweep changes sla_check_at of each
ticket it handles, and a change of an indexed column makes PostgreSQL write a new entry into every index
of the ticket table (sixteen, see benchmarks/sla.md). With the column unindexed the ticket UPDATE is HOT
(heap only, when the page has room: tickets_ticket has fillfactor 90), and only this two-column table and
its one index move: 1,000 rows' UPDATE went from ~50 ms to ~6 ms at 1,000,000 tickets.
The ticket's sla_check_at stays the truth that every service writes; nothing else needs to know this table.
"""

TABLE = "sla_clock"

FUNCTIONS = f"""
CREATE OR REPLACE FUNCTION helpdesk_sla_clock_trigger() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.sla_check_at IS NULL THEN
        DELETE FROM {TABLE} WHERE ticket_id = NEW.id;
    ELSE
        INSERT INTO {TABLE} (ticket_id, check_at) VALUES (NEW.id, NEW.sla_check_at)
        ON CONFLICT (ticket_id) DO UPDATE SET check_at = EXCLUDED.check_at;
    END IF;
    RETURN NULL;
END $$;
"""
DROP_FUNCTIONS = "DROP FUNCTION IF EXISTS helpdesk_sla_clock_trigger();"

TRIGGER_NAMES = ("helpdesk_sla_clock_insert", "helpdesk_sla_clock_update")
TRIGGERS = """
CREATE TRIGGER helpdesk_sla_clock_insert AFTER INSERT ON tickets_ticket
    FOR EACH ROW WHEN (NEW.sla_check_at IS NOT NULL) EXECUTE FUNCTION helpdesk_sla_clock_trigger();
CREATE TRIGGER helpdesk_sla_clock_update AFTER UPDATE OF sla_check_at ON tickets_ticket
    FOR EACH ROW WHEN (OLD.sla_check_at IS DISTINCT FROM NEW.sla_check_at)
    EXECUTE FUNCTION helpdesk_sla_clock_trigger();
"""
DROP_TRIGGERS = "\n".join(f"DROP TRIGGER IF EXISTS {name} ON tickets_ticket;" for name in TRIGGER_NAMES)

# Django neither deletes these rows nor joins them (the model's key has no constraint); the database does.
FOREIGN_KEY = f"""
ALTER TABLE {TABLE} ADD CONSTRAINT sla_clock_ticket_fk FOREIGN KEY (ticket_id)
    REFERENCES tickets_ticket (id) ON DELETE CASCADE;
"""
DROP_FOREIGN_KEY = f"ALTER TABLE {TABLE} DROP CONSTRAINT IF EXISTS sla_clock_ticket_fk;"

# All running clocks from the tickets (the migration; generate_dataset after its bulk load, triggers off).
FILL = f"""
INSERT INTO {TABLE} (ticket_id, check_at)
SELECT id, sla_check_at FROM tickets_ticket WHERE sla_check_at IS NOT NULL
ON CONFLICT (ticket_id) DO UPDATE SET check_at = EXCLUDED.check_at;
ANALYZE sla_clock;
"""

# Room on each page for a changed row's new version next to the old one (a HOT update needs it).
FILLFACTOR = "ALTER TABLE tickets_ticket SET (fillfactor = 90);"
RESET_FILLFACTOR = "ALTER TABLE tickets_ticket RESET (fillfactor);"
