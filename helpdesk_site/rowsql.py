"""Model rows written and read with SQL composed once per model, for hot paths where Django's query
compiler costs more CPU than the statement (the mail gateway and the ticket services it calls;
benchmarks/ingest.md): insert_row / update_row behave like save() (post_save included), select_one /
select_rows return model instances, update_rows writes many rows in one statement, and
insert_unless_exists is INSERT ... ON CONFLICT DO NOTHING for rows unique by a key (raw mail, outbox,
customers): get_or_create costs up to six round trips, this one statement. Both PostgreSQL and SQLite
(3.24+) understand the syntax.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime

from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections
from django.db.models import Model
from django.db.models.signals import post_save


def _db():
    """The default connection itself: `django.db.connection` is a proxy that looks the connection up in a
    thread/async-local on every attribute access, and the field preparation and converters below access
    it a hundred times per mail."""
    return connections[DEFAULT_DB_ALIAS]


def insert_unless_exists(instance: Model, conflict: str | None = None, *, wait: bool = True) -> bool | None:
    """Insert the unsaved instance unless a row with the same unique value exists.

    `conflict` names the column whose unique index decides; None means any unique constraint (needed for
    an expression index such as LOWER(email)). Returns True and sets the pk when the row was inserted;
    False (instance left unsaved) when it already existed. Field pre_save hooks (auto_now_add, defaults)
    run as in Model.save().

    wait=False, inside pipelined(): the INSERT gets a reserved key and is sent without waiting for its
    outcome; returns None (not known yet: the pk is set, but if the row already existed nothing has it).
    """
    meta = instance._meta
    connection = _db()
    pipe = _pipeline.get()
    keyed = not wait and pipe is not None
    if keyed:
        instance.pk = pipe.take_key(meta, connection)
    fields, sql = _plan(
        _UPSERT_PLANS, (meta.label, conflict, keyed, 1), _upsert_plan, meta, conflict, connection, keyed
    )
    values = _prepared(fields, [f.pre_save(instance, True) for f in fields], connection)
    with _binding_cursor(connection) as cursor:
        cursor.execute(sql, values)
        found = None if keyed else cursor.fetchone()
    if keyed:
        _saved(instance, connection)
        return None
    if found is None:
        return False
    instance.pk = found[0]
    _saved(instance, connection)
    return True


def _plan(cache: dict, key, build, *args):
    plan = cache.get(key)
    if plan is None:
        plan = cache[key] = build(*args)
    return plan


def _saved(instance: Model, connection) -> None:
    instance._state.adding = False
    instance._state.db = connection.alias
    post_save.send(
        sender=instance._meta.model,
        instance=instance,
        created=True,
        update_fields=None,
        raw=False,
        using=connection.alias,
    )


_UPSERT_PLANS: dict[tuple, tuple[list, str]] = {}


def _upsert_plan(meta, conflict: str | None, connection, keyed: bool, rows: int = 1) -> tuple[list, str]:
    """INSERT of `rows` rows ... ON CONFLICT DO NOTHING. keyed: the pk is given (reserved) and nothing is
    returned; otherwise each inserted row's pk (and its `conflict` value, which tells the rows apart)."""
    fields = [f for f in meta.concrete_fields if keyed or not f.primary_key]
    quote = connection.ops.quote_name
    key = meta.get_field(conflict).column if conflict else None
    row_sql = "(" + ", ".join(["%s"] * len(fields)) + ")"
    sql = "INSERT INTO {} ({}) VALUES {} ON CONFLICT {} DO NOTHING".format(  # noqa: S608
        quote(meta.db_table),
        ", ".join(quote(f.column) for f in fields),
        ", ".join([row_sql] * rows),
        f"({quote(key)})" if key else "",
    )
    if not keyed:
        sql += " RETURNING " + ", ".join(quote(c) for c in [meta.pk.column, *([key] if key else [])])
    return fields, sql


def insert_many_unless_exist(instances: list[Model], conflict: str) -> list[bool]:
    """insert_unless_exists for several unsaved instances of one model in one statement: a multi-row
    INSERT ... ON CONFLICT (conflict) DO NOTHING RETURNING. Returns, per instance, whether it was
    inserted (its pk then set, post_save sent). Of instances sharing a value of `conflict` only the
    first is inserted; those not inserted are left unsaved. PostgreSQL and SQLite."""
    if not instances:
        return []
    meta = instances[0]._meta
    connection = _db()
    key, n = meta.get_field(conflict), len(instances)
    fields, sql = _plan(
        _UPSERT_PLANS, (meta.label, conflict, False, n), _upsert_plan, meta, conflict, connection, False, n
    )
    params: list = []
    for instance in instances:
        params += _prepared(fields, [f.pre_save(instance, True) for f in fields], connection)
    with _binding_cursor(connection) as cursor:
        cursor.execute(sql, params)
        keys = {value: pk for pk, value in cursor.fetchall()}
    inserted = []
    for instance in instances:
        # Popped: a later instance with the same key is a duplicate, not the inserted row.
        pk = keys.pop(getattr(instance, key.attname), None)
        inserted.append(pk is not None)
        if pk is not None:
            instance.pk = pk
            _saved(instance, connection)
    return inserted


def update_rows(instances: list[Model], field_names: list[str]) -> None:
    """UPDATE many rows of one model to their own values in one statement: UPDATE ... FROM unnest() of one
    array per column, so PostgreSQL only (elsewhere, update_row each).

    QuerySet.bulk_update builds a CASE WHEN per field and row: for a batch of twenty inbound mails it
    spent more CPU composing the statement (over 100 ms) than processing the mails. One parameter per
    column, not per value: the statement is the same for any number of rows, composed once, and psycopg
    converts it once (it does not cache statements of over 50 parameters).
    """
    if not instances:
        return
    meta = instances[0]._meta
    connection = _db()
    fields, sql = _plan(_UPDATE_PLANS, (meta.label, tuple(field_names)), _update_plan, meta, field_names, connection)
    rows = [_prepared(fields, [getattr(instance, f.attname) for f in fields], connection) for instance in instances]
    params = [[instance.pk for instance in instances], *(list(column) for column in zip(*rows, strict=True))]
    with _binding_cursor(connection) as cursor:
        cursor.execute(sql, params)


def _update_plan(meta, field_names: list[str], connection) -> tuple[list, str]:
    fields = [meta.get_field(name) for name in field_names]
    quote = connection.ops.quote_name
    pk_type = meta.pk.rel_db_type(connection) if meta.pk.is_relation else meta.pk.cast_db_type(connection)
    arrays = ", ".join(f"%s::{cast}[]" for cast in [pk_type, *(f.cast_db_type(connection) for f in fields)])
    columns = [quote(f.column) for f in fields]
    sql = "UPDATE {table} SET {sets} FROM unnest({arrays}) AS v(pk, {cols}) WHERE {table}.{pk} = v.pk".format(  # noqa: S608
        table=quote(meta.db_table),
        sets=", ".join(f"{c} = v.{c}" for c in columns),
        arrays=arrays,
        cols=", ".join(columns),
        pk=quote(meta.pk.column),
    )
    return fields, sql


_UPDATE_PLANS: dict[tuple, tuple[list, str]] = {}


# model label and computed columns (or "keyed") -> (fields given as parameters, fields returned, SQL)
_INSERT_PLANS: dict[tuple, tuple[list, list | None, str]] = {}


def insert_row(instance: Model, *, computed: dict[str, str] | None = None) -> None:
    """INSERT the unsaved instance, as Model.save() would, with SQL composed once per model.

    On the mail gateway's path (a ticket, its message and its event per mail) Django's INSERT compiler
    cost more CPU than PostgreSQL spent executing the statement. `computed` maps field names to SQL
    expressions evaluated by the INSERT itself (e.g. the ticket number's nextval()); their values are
    read back with RETURNING. Unlike save(), an auto_now_add field that already has a value keeps it
    (ticket_create computes the SLA clocks from the creation time before it inserts). post_save is sent
    as save() sends it (the page cache listens); models with save() overrides must not be inserted this
    way (the project has none).
    """
    meta = instance._meta
    connection = _db()
    computed = computed or {}
    instance._prepare_related_fields_for_save(operation_name="save")
    pipe = _pipeline.get()
    if pipe is not None and instance.pk is None:
        # Pipelined: the key and the computed values were reserved, so there is nothing to wait for.
        instance.pk = pipe.take_key(meta, connection)
        for name, expression in computed.items():
            setattr(instance, meta.get_field(name).attname, pipe.take(expression, connection))
        plan = _plan(_INSERT_PLANS, (meta.label, "keyed"), _keyed_insert_plan, meta, connection)
    else:
        plan = _plan(
            _INSERT_PLANS, (meta.label, tuple(computed.items())), _insert_plan, meta, computed, connection
        )
    fields, returned, sql = plan
    values = _prepared(fields, [_value_for_insert(f, instance) for f in fields], connection)
    with _binding_cursor(connection) as cursor:
        cursor.execute(sql, values)
        row = cursor.fetchone() if returned is not None else None
    if row is not None:
        instance.pk = row[0]
        for field, value in zip(returned, row[1:], strict=True):
            setattr(instance, field.attname, value)
    _saved(instance, connection)


def _keyed_insert_plan(meta, connection) -> tuple[list, None, str]:
    """Every column a parameter, the pk included, nothing returned (None: pipelined inserts)."""
    quote = connection.ops.quote_name
    fields = list(meta.concrete_fields)
    sql = "INSERT INTO {} ({}) VALUES ({})".format(  # noqa: S608 - names from the model
        quote(meta.db_table), ", ".join(quote(f.column) for f in fields), ", ".join(["%s"] * len(fields))
    )
    return fields, None, sql


def _insert_plan(meta, computed: dict[str, str], connection) -> tuple[list, list, str]:
    quote = connection.ops.quote_name
    returned = [meta.get_field(name) for name in computed]
    fields = [f for f in meta.concrete_fields if not f.primary_key and f not in returned]
    sql = "INSERT INTO {} ({}) VALUES ({}) RETURNING {}".format(  # noqa: S608 - names from the model
        quote(meta.db_table),
        ", ".join(quote(f.column) for f in [*fields, *returned]),
        ", ".join(["%s"] * len(fields) + list(computed.values())),
        ", ".join(quote(f.column) for f in [meta.pk, *returned]),
    )
    return fields, returned, sql


def _prepared(fields: list, values: list, connection) -> list:
    """get_db_prep_save of each value, as save() prepares it. On PostgreSQL the values Django would pass
    through unchanged (a str for a text column, an int for an integer or a foreign key, a bool, an aware
    datetime, None for anything but JSON) skip Django's per-field chain of conversions: a new ticket
    and its message, event and acknowledgement prepare some 60 values."""
    if connection.vendor != "postgresql":
        return [f.get_db_prep_save(v, connection) for f, v in zip(fields, values, strict=True)]
    out = []
    for field, value in zip(fields, values, strict=True):
        kind = _PASS_THROUGH.get(field.get_internal_type())
        if kind is not None and (
            value is None or (type(value) is kind and (kind is not datetime or value.tzinfo))
        ):
            out.append(value)
        else:
            out.append(field.get_db_prep_save(value, connection))
    return out


# Internal field type -> the exact Python type whose values reach psycopg unchanged through Django's
# get_db_prep_save on PostgreSQL (Django wraps ints in psycopg's IntN only to fix a parameter's type;
# in these INSERT and UPDATE statements the column decides it). JSON is not here: None means JSON null.
_PASS_THROUGH = {
    **dict.fromkeys(("CharField", "TextField", "EmailField", "SlugField", "URLField"), str),
    **dict.fromkeys(
        (
            "IntegerField",
            "BigIntegerField",
            "SmallIntegerField",
            "PositiveIntegerField",
            "PositiveSmallIntegerField",
            "PositiveBigIntegerField",
            "AutoField",
            "BigAutoField",
            "ForeignKey",
        ),
        int,
    ),
    "BooleanField": bool,
    "DateTimeField": datetime,
}


def _value_for_insert(field, instance: Model):
    if getattr(field, "auto_now_add", False):
        given = getattr(instance, field.attname)
        if given is not None:
            return given
    value = field.pre_save(instance, True)
    if hasattr(value, "resolve_expression"):  # e.g. a db_default without a Python default
        raise ValueError(f"insert_row cannot insert the expression {value!r} for {field}")
    return value


_SELECT_PLANS: dict[tuple, tuple[list, list, str]] = {}


def select_one(model: type[Model], where: str, params: list, **options):
    """The row of `model` (SQL alias t) matching `where`, or None (see select_rows for the options)."""
    rows = select_rows(model, where, params, **options)
    return rows[0] if rows else None


def select_rows(
    model: type[Model],
    where: str,
    params: list,
    *,
    related: str | None = None,
    lock: bool = False,
    skip_locked: bool = False,
    annotate: dict[str, str] | None = None,
    then: str = "",
) -> list:
    """Rows of `model` (SQL alias t) matching `where`, as model instances. With `related` (a foreign
    key name) the referenced row is joined (alias r) and cached on each instance as select_related()
    would. `lock` adds FOR UPDATE of t (`skip_locked`: SKIP LOCKED), where the database has it.
    `annotate` maps attribute names to SQL expressions selected too (their parameters come first in
    `params`); `then` follows the WHERE clause (ORDER BY, LIMIT). The SQL is composed once per shape:
    composing an ORM query of the 40-column ticket cost 0.5-1 ms of CPU, five times what running it
    costs."""
    annotate = annotate or {}
    key = (model._meta.label, where, related, lock, skip_locked, tuple(annotate.items()), then)
    connection = _db()
    plan = _SELECT_PLANS.get(key)
    if plan is None:
        plan = _SELECT_PLANS[key] = _select_plan(
            model, where, related, (lock, skip_locked), annotate, then, connection
        )
    fields, related_fields, sql = plan
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    return [_instance(model, fields, related, related_fields, annotate, row, connection) for row in rows]


def _instance(
    model, fields: list, related: str | None, related_fields: list, annotate: dict, row, connection
) -> Model:
    instance = _from_row(model, fields, row[: len(fields)], connection)
    end = len(fields) + len(related_fields)
    if related is not None:
        fk = model._meta.get_field(related)
        related_row = _from_row(fk.related_model, related_fields, row[len(fields) : end], connection)
        fk.set_cached_value(instance, related_row)
    for name, value in zip(annotate, row[end:], strict=True):
        setattr(instance, name, value)
    return instance


def _select_plan(
    model, where: str, related: str | None, lock: tuple[bool, bool], annotate: dict, then: str, connection
):
    quote = connection.ops.quote_name
    fields = list(model._meta.concrete_fields)
    columns = [f"t.{quote(f.column)}" for f in fields]
    join, related_fields = "", []
    if related is not None:
        fk = model._meta.get_field(related)
        related_fields = list(fk.related_model._meta.concrete_fields)
        columns += [f"r.{quote(f.column)}" for f in related_fields]
        table, target = quote(fk.related_model._meta.db_table), quote(fk.target_field.column)
        join = f" JOIN {table} r ON r.{target} = t.{quote(fk.column)}"
    columns += [f"{expression} AS {quote(name)}" for name, expression in annotate.items()]
    sql = "SELECT {} FROM {} t{} WHERE {} {}{}".format(  # noqa: S608 - names from the model, SQL from the caller
        ", ".join(columns), quote(model._meta.db_table), join, where, then, _lock_clause(*lock, connection)
    )
    return fields, related_fields, sql


def _lock_clause(lock: bool, skip_locked: bool, connection) -> str:
    features = connection.features
    if not lock or not features.has_select_for_update:  # SQLite: writers are serialised anyway
        return ""
    clause = " FOR UPDATE OF t" if features.has_select_for_update_of else " FOR UPDATE"
    return clause + " SKIP LOCKED" if skip_locked and features.has_select_for_update_skip_locked else clause


def _from_row(model, fields: list, values, connection) -> Model:
    converted = []
    for field, value in zip(fields, values, strict=True):
        for converter in _converters(field, connection):
            value = converter(value, field, connection)
        converted.append(value)
    return model.from_db(connection.alias, [f.attname for f in fields], converted)


_CONVERTERS: dict = {}


def _converters(field, connection) -> list:
    """What the ORM applies to a column value it reads: the backend's (SQLite returns datetimes as
    text) and the field's own (JSON is decoded by JSONField.from_db_value)."""
    key = (connection.vendor, field)
    found = _CONVERTERS.get(key)
    if found is None:
        col = field.get_col(field.model._meta.db_table)
        found = _CONVERTERS[key] = connection.ops.get_db_converters(col) + field.get_db_converters(connection)
    return found


def update_row(instance: Model, field_names: list[str]) -> None:
    """UPDATE the instance's row with the current values of these fields, as save(update_fields=...)
    would (post_save included), with the SQL composed once per model and field list."""
    meta = instance._meta
    connection = _db()
    fields = [meta.get_field(name) for name in dict.fromkeys(field_names)]
    quote = connection.ops.quote_name
    sql = "UPDATE {} SET {} WHERE {} = %s".format(  # noqa: S608 - names from the model
        quote(meta.db_table), ", ".join(f"{quote(f.column)} = %s" for f in fields), quote(meta.pk.column)
    )
    values = _prepared(fields, [f.pre_save(instance, False) for f in fields], connection)
    with _binding_cursor(connection) as cursor:
        cursor.execute(sql, [*values, instance.pk])
        # Pipelined, the count is not known without waiting; callers there hold the row's lock.
        if _pipeline.get() is None and cursor.rowcount != 1:
            raise DatabaseError("Save with update_fields did not affect any rows.")  # as Model.save()
    post_save.send(
        sender=meta.model,
        instance=instance,
        created=False,
        update_fields=frozenset(field_names),
        raw=False,
        using=connection.alias,
    )


# --- pipelined writes ------------------------------------------------------------------------------


class _Pipeline:
    """Keys and sequence values reserved for the INSERTs of one pipelined block."""

    def __init__(self, size: int):
        self.size = size
        self.values: dict[str, list] = {}

    def take_key(self, meta, connection):
        return self.take(_key_expression(meta, connection), connection, self.size)

    def take(self, expression: str, connection, count: int = 1):
        found = self.values.get(expression)
        if not found:
            self.reserve({expression: count}, connection)
            found = self.values[expression]
        return found.pop()

    def reserve(self, wanted: dict[str, int], connection) -> None:
        """Reserve values of several sequence expressions in one statement."""
        if not wanted:
            return
        most = max(wanted.values())
        columns = ", ".join(f"CASE WHEN n <= {int(count)} THEN {expr} END" for expr, count in wanted.items())
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT {columns} FROM generate_series(1, %s) AS n", [most])  # noqa: S608 - our SQL
            rows = cursor.fetchall()
        for i, expression in enumerate(wanted):
            # Popped from the end: the lowest value first (tickets numbered in mail order).
            self.values.setdefault(expression, [])[:0] = sorted(
                (r[i] for r in rows if r[i] is not None), reverse=True
            )


_pipeline: ContextVar[_Pipeline | None] = ContextVar("rowsql_pipeline", default=None)


@contextmanager
def pipelined(size: int, *, models=(), sequences: dict[str, int] | None = None) -> Iterator[None]:
    """Send statements without waiting for results nobody reads (psycopg's pipeline mode), so PostgreSQL
    executes them while this process goes on with its Python work (the mail gateway's batches: routing
    and building the next mail while the database indexes the previous one).

    Inside, insert_row (and insert_unless_exists(wait=False)) give new rows keys reserved from their
    sequence instead of waiting for RETURNING; update_row does not wait for the row count. `size` keys
    of each of `models`, and the given number of values of each sequence expression in `sequences`
    (for insert_row's computed columns, e.g. a nextval()), are reserved up front in one round trip;
    more are reserved when they run out. Anything that reads a result (a SELECT, an ORM create) waits
    for everything sent before it. An error in a statement surfaces at the next such wait or when the
    block ends, possibly in code that did not cause it: the caller must treat any error in the block
    as failing all of it. Unused reservations leave gaps, as rolled-back inserts do. Outside
    PostgreSQL, a no-op.
    """
    connection = _db()
    if connection.vendor != "postgresql" or _pipeline.get() is not None:
        yield
        return
    connection.ensure_connection()
    pipe = _Pipeline(size)
    wanted = {_key_expression(m._meta, connection): size for m in models}
    wanted.update({e: n for e, n in (sequences or {}).items() if n > 0})
    token = _pipeline.set(pipe)
    try:
        with connection.connection.pipeline():
            pipe.reserve(wanted, connection)
            yield
    finally:
        _pipeline.reset(token)


@contextmanager
def _binding_cursor(connection) -> Iterator:
    """For the writes here, on PostgreSQL: a cursor binding parameters on the server, in Django's
    wrapper (query logging and error translation kept). A raw mail or a message body travels as a
    parameter instead of being quoted into the SQL text by Python and parsed back by PostgreSQL. The
    statements are not prepared (Django sets psycopg's prepare_threshold to None; preparing these
    explicitly was tried and measured no difference). Measured on 5-20 KB mails: a message INSERT
    0.28 -> 0.21 ms of worker CPU and 0.20 -> 0.15 ms of database CPU; storing a raw mail (bytea)
    0.45-0.63 -> 0.38-0.40 ms of worker and 0.40-0.50 -> 0.33-0.37 ms of database CPU. Django's own
    cursors bind on the client (unless OPTIONS server_side_binding, a switch for every query of every
    page).

    One psycopg cursor per connection, kept open: a cursor's adapters cache which dumper converts each
    Python type, and a new cursor per statement looked every parameter's dumper up again (with building
    the cursor, about a quarter of a statement's worker CPU: 96 -> 70 us for 17 parameters)."""
    if connection.vendor != "postgresql":
        with connection.cursor() as cursor:
            yield cursor
        return
    connection.ensure_connection()
    raw = getattr(connection, "_rowsql_cursor", None)
    if raw is None or raw.closed or raw.connection is not connection.connection:
        from django.db.backends.postgresql.base import ServerBindingCursor

        raw = connection._rowsql_cursor = ServerBindingCursor(connection.connection)
    yield connection.make_debug_cursor(raw) if connection.queries_logged else connection.make_cursor(raw)


_KEY_EXPRESSIONS: dict[str, str] = {}


def _key_expression(meta, connection) -> str:
    """nextval() of the sequence behind the model's auto-incremented primary key."""
    found = _KEY_EXPRESSIONS.get(meta.label)
    if found is None:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_get_serial_sequence(%s, %s)", [meta.db_table, meta.pk.column])
            sequence = cursor.fetchone()[0]
        if sequence is None:
            raise DatabaseError(f"{meta.db_table}.{meta.pk.column} has no sequence to reserve keys from")
        found = _KEY_EXPRESSIONS[meta.label] = f"nextval('{sequence}')"
    return found
