"""A large, realistic, deterministic dataset for benchmarks (PostgreSQL only).

Rows are generated inside PostgreSQL with generate_series (no Python round trip per row), in batches with
a progress bar; secondary indexes of the big tables are dropped first and rebuilt at the end, which is
several times faster than maintaining them row by row. "Random" choices are hashes of row ids, so the
same --tickets always gives the same data.
"""

import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor

from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction

from accounts.models import User
from departments.models import Department, DepartmentAddress, Membership
from search import sql as search_sql
from sla import sql as sla_sql
from sla.models import SlaPolicy

BIG_TABLES = ["tickets_ticket", "tickets_message", "tickets_ticketevent", "tickets_attachment", "tickets_rating",
              "accounts_user", search_sql.TABLE, sla_sql.TABLE]

EN_WORDS = (
    "server website error database backup email domain certificate timeout password invoice payment "
    "upgrade migration nginx php mysql disk memory cpu load dns ssl login account billing refund"
).split()
RU_WORDS = (
    "сервер сервера серверы сайт ошибка база резервная почта домен сертификат пароль счёт оплата "
    "перенос нагрузка диск память процессор доступ вход аккаунт возврат хостинг тариф"
).split()


def _pick(words: list[str], expr: str) -> str:
    """SQL choosing a word from a literal array by a hash expression."""
    arr = "ARRAY[" + ",".join("'" + w + "'" for w in words) + "]"
    return f"({arr})[1 + (({expr}) %% {len(words)})]"


class Command(BaseCommand):
    help = "Generate N tickets (~5 messages each) with departments, agents and customers, for benchmarks."

    def add_arguments(self, parser):
        parser.add_argument("--tickets", type=int, default=10_000)
        parser.add_argument("--batch", type=int, default=50_000)

    def handle(self, *args, tickets: int, batch: int, **options):
        if connection.vendor != "postgresql":
            raise CommandError("generate_dataset needs PostgreSQL (set DATABASE_URL).")
        started = time.monotonic()
        depts, agents = self._staff()
        n_customers = max(1, tickets // 5)
        indexes = self._drop_indexes()
        self.search_seconds = 0.0
        self._load_triggers("DISABLE")
        try:
            first_customer = self._customers(n_customers)
            self._tickets(tickets, batch, depts, agents, first_customer, n_customers)
            self._search_vectors(batch)
            self._sla_clocks()
        finally:
            self._load_triggers("ENABLE")
            self._rebuild_indexes(indexes)
        if self.search_seconds:
            self.stdout.write(f"search vectors computed in {self.search_seconds:.1f} s")
        with connection.cursor() as c:
            c.execute("SELECT setval('tickets_ticket_number_seq', (SELECT COALESCE(MAX(number), 10000) FROM tickets_ticket))")
            # VACUUM too: it sets the visibility map, without which PostgreSQL cannot use index-only scans
            # (the reports' covering indexes); autovacuum would do it on a live system, later.
            c.execute("VACUUM ANALYZE")
        self.stdout.write(f"generated {tickets} tickets in {time.monotonic() - started:.0f} s")

    # --- staff and customers (small, through the ORM) -----------------------------------------------
    def _staff(self) -> tuple[list[int], list[int]]:
        with transaction.atomic():
            depts = []
            for i in range(20):
                d, _ = Department.objects.get_or_create(
                    slug=f"bench-{i}",
                    defaults=dict(name=f"Department {i}", from_email=f"dept{i}@bench.example", is_triage=False),
                )
                DepartmentAddress.objects.get_or_create(email=f"dept{i}@bench.example", defaults={"department": d})
                # The policy the generated due times follow (see _ticket_sql): response within 8 hours with
                # the warning 48 minutes before, resolution 2 days after that; calendar time.
                SlaPolicy.objects.get_or_create(
                    department=d,
                    priority=None,
                    defaults=dict(first_response_minutes=480, next_response_minutes=480, resolution_minutes=3360,
                                  business_hours=False, warning_percent=90),
                )
                depts.append(d.pk)
            agents = []
            password = make_password("bench")  # hashed once: 200 PBKDF2 runs would take a minute
            for i in range(200):
                u = User.objects.filter(email=f"agent{i}@bench.example").first()
                if u is None:
                    u = User.objects.create(email=f"agent{i}@bench.example", password=password,
                                            display_name=f"Agent {i}", is_agent=True,
                                            is_active=i % 25 != 0)  # every 25th has departed
                agents.append(u.pk)
                for k in range(1 + i % 3):
                    Membership.objects.get_or_create(
                        user=u, department_id=depts[(i + k * 7) % 20],
                        defaults={"role": "manager" if i % 10 == 0 else "agent"},
                    )
        return depts, agents

    def _customers(self, n: int) -> int:
        with connection.cursor() as c:
            c.execute("SELECT COALESCE(MAX(id), 0) FROM accounts_user")
            base = c.fetchone()[0]
            c.execute(
                """INSERT INTO accounts_user (id, password, last_login, is_superuser, email, display_name, language,
                       time_zone, is_agent, is_staff, is_active, date_joined)
                   SELECT %s + g, '!', NULL, false, 'customer' || (%s + g) || '@bench.example',
                          CASE WHEN g %% 2 = 0 THEN 'Клиент ' || g ELSE 'Customer ' || g END,
                          CASE WHEN g %% 2 = 0 THEN 'ru' ELSE 'en' END, '', false, false, true,
                          now() - (g %% 730) * interval '1 day'
                   FROM generate_series(1, %s) g""",
                [base, base, n],
            )
            c.execute("SELECT setval(pg_get_serial_sequence('accounts_user', 'id'), (SELECT MAX(id) FROM accounts_user))")
        return base + 1

    # --- tickets and messages (big, generated in SQL) -----------------------------------------------
    def _tickets(self, n: int, batch: int, depts, agents, first_customer: int, n_customers: int) -> None:
        with connection.cursor() as c:
            c.execute("SELECT COALESCE(MAX(id), 0) FROM tickets_ticket")
            base = c.fetchone()[0]
        dept_arr = "ARRAY[" + ",".join(map(str, depts)) + "]::bigint[]"
        agent_arr = "ARRAY[" + ",".join(map(str, agents)) + "]::bigint[]"
        done = 0
        while done < n:
            size = min(batch, n - done)
            lo, hi = base + done + 1, base + done + size
            with transaction.atomic(), connection.cursor() as c:
                # Integer bounds are inlined: the SQL uses % as modulo, so it is run without parameters.
                c.execute(self._ticket_sql(dept_arr, agent_arr, first_customer, n_customers) % (lo, hi))
                c.execute(self._message_sql(agent_arr) % (lo, hi))
                c.execute(self._attachment_sql() % (lo, hi))
                c.execute(self._rating_sql() % (lo, hi))
                c.execute(self._report_event_sql() % (lo, hi, lo, hi))
            done += size
            self._progress(done, n)
        with connection.cursor() as c:
            for table in ("tickets_ticket", "tickets_message", "tickets_attachment", "tickets_rating",
                          "tickets_ticketevent"):
                c.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT MAX(id) FROM {table}))")
        self.stdout.write("")

    @staticmethod
    def _ticket_sql(dept_arr: str, agent_arr: str, first_customer: int, n_customers: int) -> str:
        h = "abs(hashint4(t::int))"  # deterministic pseudo-random per ticket
        en = " ".join(_pick(EN_WORDS, f"{h} / {k}") + " || ' ' ||" for k in (3, 7)) + _pick(EN_WORDS, f"{h} / 11")
        ru = " ".join(_pick(RU_WORDS, f"{h} / {k}") + " || ' ' ||" for k in (3, 7)) + _pick(RU_WORDS, f"{h} / 11")
        created = f"now() - ({h} %% (730 * 24 * 60)) * interval '1 minute'"
        return f"""
        INSERT INTO tickets_ticket (id, number, subject, customer_id, department_id, status, priority, assignee_id,
            product_id, fields, channel, merged_into_id, created_at, updated_at, first_response_at, resolved_at,
            closed_at, waiting_since, first_response_due_at, next_response_due_at, resolution_due_at,
            escalated_at, escalation_level, sla_warn_at, sla_check_at, sla_resumed_at, sla_elapsed,
            first_response_seconds, first_response_business_seconds, first_responder_id,
            resolution_seconds, resolution_business_seconds, resolved_by_id)
        SELECT t, 10000 + t,
            CASE WHEN t %% 2 = 0 THEN {ru} ELSE {en} END,
            {first_customer} + ({h} %% {n_customers}),
            ({dept_arr})[1 + ({h} / 13) %% 20],
            st, 1 + ({h} / 17) %% 4,
            assignee,
            NULL, '{{}}'::jsonb, CASE WHEN t %% 3 = 0 THEN 'web' ELSE 'email' END, NULL,
            c, c + interval '3 hours',
            CASE WHEN st = 'new' THEN NULL ELSE c + frt * interval '1 second' END,
            CASE WHEN st IN ('resolved', 'closed') THEN c + res * interval '1 second' END,
            CASE WHEN st = 'closed' THEN c + (res + 86400) * interval '1 second' END,
            CASE WHEN st IN ('new', 'open') THEN c END,
            -- SLA (sla app): running clocks due within the next 8 hours (resolution 2 days later), one in
            -- fifty breached and already escalated; warnings at 48 minutes before the due time; the sweep
            -- has nothing due at generation time. Pending tickets: paused resolution clock.
            CASE WHEN st = 'new' THEN now() + due_min * interval '1 minute' END,
            CASE WHEN st = 'open' THEN now() + due_min * interval '1 minute' END,
            CASE WHEN st IN ('new', 'open') THEN now() + (due_min + 2880) * interval '1 minute' END,
            CASE WHEN st IN ('new', 'open') AND due_min < 0 THEN now() + due_min * interval '1 minute' END,
            CASE WHEN st IN ('new', 'open') AND due_min < 0 THEN 1 ELSE 0 END,
            CASE WHEN st IN ('new', 'open') AND due_min > 48 THEN now() + (due_min - 48) * interval '1 minute' END,
            CASE WHEN st IN ('new', 'open') AND due_min > 0
                 THEN now() + (CASE WHEN due_min > 48 THEN due_min - 48 ELSE due_min END) * interval '1 minute' END,
            CASE WHEN st IN ('new', 'open') THEN c END,
            CASE WHEN st = 'pending' THEN 3600 ELSE 0 END,
            -- Report figures (reports app): the dataset has no business hours, so business = wall clock.
            CASE WHEN st = 'new' THEN NULL ELSE frt END,
            CASE WHEN st = 'new' THEN NULL ELSE frt END,
            CASE WHEN st = 'new' THEN NULL
                 ELSE COALESCE(assignee, ({agent_arr})[1 + ({h} / 37) %% 200]) END,
            CASE WHEN st IN ('resolved', 'closed') THEN res END,
            CASE WHEN st IN ('resolved', 'closed') THEN res END,
            CASE WHEN st IN ('resolved', 'closed') THEN assignee END
        FROM (SELECT t, {created} AS c,
                     -- first response 2 min .. ~10 h (skewed short), resolution a first response later
                     -- plus up to 3 days
                     120 + (({h} / 41) %% 600) * (({h} / 43) %% 60) AS frt,
                     120 + (({h} / 41) %% 600) * (({h} / 43) %% 60) + ({h} / 47) %% 259200 AS res,
                     CASE WHEN ({h} / 19) %% 4 = 0 THEN NULL ELSE ({agent_arr})[1 + ({h} / 23) %% 200] END
                       AS assignee,
                     (CASE WHEN {h} %% 50 = 0 THEN -1 ELSE 1 END) * (5 + ({h} / 31) %% 475) AS due_min,
                     -- As in a real helpdesk, the last month's tickets are in every state and older ones are
                     -- nearly all closed (about 2%% of all tickets are active, a few stale ones among them).
                     CASE WHEN {h} %% (730 * 24 * 60) < 30 * 24 * 60 THEN
                       (ARRAY['closed','closed','closed','closed','closed','resolved','pending','open','new','closed'])
                          [1 + ({h} / 29) %% 10]
                     ELSE (ARRAY['open','pending','resolved','resolved'] || array_fill('closed'::text, ARRAY[196]))
                          [1 + ({h} / 29) %% 200] END AS st
              FROM generate_series(%d, %d) t) s"""

    @staticmethod
    def _message_sql(agent_arr: str) -> str:
        h = "abs(hashint4((t.id * 16 + k)::int))"
        en = " ".join(_pick(EN_WORDS, f"{h} / {p}") + " || ' ' ||" for p in (2, 3, 5, 7, 11, 13)) + "'.'"
        ru = " ".join(_pick(RU_WORDS, f"{h} / {p}") + " || ' ' ||" for p in (2, 3, 5, 7, 11, 13)) + "'.'"
        # The timeline HTML is stored with the message, as the services do (tickets.message_body): a plain
        # paragraph, since these bodies have no quotes or line breaks and their words need no escaping.
        return f"""
        INSERT INTO tickets_message (ticket_id, kind, channel, author_id, body_text, body_html, shown_html,
            quoted_html, cc, created_at, message_id, in_reply_to, "references", department_id, response_seconds,
            response_business_seconds)
        SELECT t.id,
            CASE WHEN k = 1 OR k %% 2 = 1 THEN 'customer' WHEN k %% 4 = 0 THEN 'note' ELSE 'reply' END,
            t.channel,
            CASE WHEN k = 1 OR k %% 2 = 1 THEN t.customer_id
                 ELSE COALESCE(t.assignee_id, ({agent_arr})[1 + {h} %% 200]) END,
            b.body, '', '<div class="msg-body"><p>' || b.body || '</p></div>', '',
            '[]'::jsonb, t.created_at + k * interval '1 hour',
            CASE WHEN t.channel = 'email' THEN 'bench-' || t.id || '-' || k || '@bench.example' ELSE '' END, '', '',
            -- report figures: agent messages carry their department, replies the customer's wait
            CASE WHEN k = 1 OR k %% 2 = 1 THEN NULL ELSE t.department_id END,
            CASE WHEN k > 1 AND k %% 2 = 0 AND k %% 4 <> 0 THEN 60 + ({h} / 7) %% 14400 END,
            CASE WHEN k > 1 AND k %% 2 = 0 AND k %% 4 <> 0 THEN 60 + ({h} / 7) %% 14400 END
        FROM tickets_ticket t
        CROSS JOIN LATERAL generate_series(1, 1 + abs(hashint4(t.id::int)) %% 9) k
        CROSS JOIN LATERAL (SELECT
            CASE WHEN t.id %% 2 = 0 THEN {ru} ELSE {en} END
              -- benchmark search terms: 'kubernetes' in ~1%% of messages, 'quasar квазар' in ~0.001%%
              || CASE WHEN {h} %% 100 = 0 THEN ' kubernetes' ELSE '' END
              || CASE WHEN {h} %% 100000 = 7 THEN ' quasar квазар' ELSE '' END
              || ' ' || repeat('Lorem ipsum dolor sit amet. ', 4) AS body) b
        WHERE t.id BETWEEN %d AND %d"""

    @staticmethod
    def _attachment_sql() -> str:
        """Metadata of a screenshot on about one message in twenty (the files themselves are not written)."""
        return """
        INSERT INTO tickets_attachment (message_id, file, sha256, filename, content_type, size, content_id, is_inline)
        SELECT m.id, 'attachments/00/00/' || md5(m.id::text), md5(m.id::text) || md5(m.id::text),
               CASE WHEN m.id %% 2 = 0 THEN 'скриншот.png' ELSE 'screenshot.png' END, 'image/png',
               10000 + m.id %% 500000, '', false
        FROM tickets_message m WHERE m.ticket_id BETWEEN %d AND %d AND m.id %% 20 = 0"""

    # --- search vectors (search app) -----------------------------------------------------------------
    def _has_search(self) -> bool:
        with connection.cursor() as c:
            c.execute("SELECT 1 FROM pg_proc WHERE proname = 'helpdesk_search_vector'")
            return c.fetchone() is not None

    def _load_triggers(self, action: str) -> None:
        """The per-row triggers would append to each ticket's vectors once per message (a rewritten
        row per message); during the load they are off and each batch gets one INSERT instead. The SLA
        clock's triggers (sla.sql) likewise: one INSERT ... SELECT after the load (_sla_clocks)."""
        with connection.cursor() as c:
            for name in sla_sql.TRIGGER_NAMES:
                c.execute(f"ALTER TABLE tickets_ticket {action} TRIGGER {name}")
        if not self._has_search():
            return
        with connection.cursor() as c:
            for table, names in search_sql.TRIGGER_NAMES.items():
                for name in names:
                    c.execute(f"ALTER TABLE {table} {action} TRIGGER {name}")

    def _sla_clocks(self) -> None:
        with connection.cursor() as c:
            c.execute(sla_sql.FILL)

    def _search_vectors(self, batch: int) -> None:
        """The search row of every new ticket, one INSERT per chunk of tickets, the chunks spread over one
        connection per core: parsing text is CPU-bound, and PostgreSQL runs an INSERT on one core."""
        if not self._has_search():
            return
        started = time.monotonic()
        with connection.cursor() as c:
            c.execute(
                f"""SELECT min(t.id), max(t.id) FROM tickets_ticket t
                    WHERE NOT EXISTS (SELECT 1 FROM {search_sql.TABLE} v WHERE v.ticket_id = t.id)"""
            )
            lo, hi = c.fetchone()
        if lo is None:
            return
        chunk = max(1000, min(batch, 20_000))
        ranges = [(start, min(start + chunk - 1, hi)) for start in range(lo, hi + 1, chunk)]
        done = 0
        with ThreadPoolExecutor(max_workers=max(1, min(os.cpu_count() or 1, 4))) as pool:
            for n in pool.map(self._fill_range, ranges):
                done += n
                self._progress(done, hi - lo + 1, what="tickets indexed for search")
        self.stdout.write("")
        self.search_seconds = time.monotonic() - started

    @staticmethod
    def _fill_range(bounds: tuple[int, int]) -> int:
        from django.db import connections

        try:
            with transaction.atomic(), connection.cursor() as c:  # this thread's own connection
                for statement in search_sql.fill_sql(*bounds):
                    c.execute(statement)
        finally:
            connections.close_all()
        return bounds[1] - bounds[0] + 1

    @staticmethod
    def _rating_sql() -> str:
        """Customers rate about one reply in six, mostly well (5 * 40%, 4 * 30%, 3, 2, 1 * 10%), a day later."""
        return """
        INSERT INTO tickets_rating (message_id, score, comment, created_at, department_id, agent_id)
        SELECT m.id, (ARRAY[5,5,5,5,4,4,4,3,2,1])[1 + abs(hashint4(m.id::int)) %% 10], '',
               m.created_at + interval '1 day', m.department_id, m.author_id
        FROM tickets_message m
        WHERE m.ticket_id BETWEEN %d AND %d AND m.kind = 'reply' AND abs(hashint4(m.id::int) / 3) %% 6 = 0"""

    @staticmethod
    def _report_event_sql() -> str:
        """SLA breaches (escalations) on 1 ticket in 25 and reopenings on 1 in 30, as the reports count them."""
        return """
        INSERT INTO tickets_ticketevent (ticket_id, kind, actor_id, data, created_at)
        SELECT t.id, 'escalated', NULL, '{"level": 1, "target": "first_response"}'::jsonb,
               t.created_at + interval '1 hour'
        FROM tickets_ticket t WHERE t.id BETWEEN %d AND %d AND abs(hashint4(t.id::int) / 53) %% 25 = 0
        UNION ALL
        SELECT t.id, 'reopened', t.customer_id, '{"old": "resolved"}'::jsonb, t.resolved_at + interval '1 hour'
        FROM tickets_ticket t
        WHERE t.id BETWEEN %d AND %d AND t.resolved_at IS NOT NULL AND abs(hashint4(t.id::int) / 59) %% 30 = 0"""

    # --- indexes ------------------------------------------------------------------------------------
    def _drop_indexes(self) -> list[tuple[str, str]]:
        """Secondary indexes of the big tables (not primary keys or unique constraints), dropped for the load."""
        with connection.cursor() as c:
            c.execute(
                """SELECT i.indexname, i.indexdef FROM pg_indexes i
                   WHERE i.tablename = ANY(%s) AND i.schemaname = 'public'
                     AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conname = i.indexname)""",
                [BIG_TABLES],
            )
            indexes = c.fetchall()
            for name, _ in indexes:
                c.execute(f'DROP INDEX IF EXISTS "{name}"')
        return indexes

    def _rebuild_indexes(self, indexes) -> None:
        self.stdout.write(f"rebuilding {len(indexes)} indexes ...")
        with connection.cursor() as c:
            c.execute("SET maintenance_work_mem = '512MB'")
            for _, definition in indexes:
                # pg_indexes gives a partitioned table's index as "ON ONLY parent": built that way it
                # stays invalid, with no index on the partitions. Without ONLY it is built on each.
                c.execute(definition.replace(" ON ONLY ", " ON ", 1))

    def _progress(self, done: int, total: int, what: str = "tickets") -> None:
        width = 40
        filled = width * done // total
        sys.stdout.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total} {what}")
        sys.stdout.flush()
