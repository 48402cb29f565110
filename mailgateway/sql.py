"""INSERT ... ON CONFLICT DO NOTHING for rows that are unique by a key (raw mail, outbox, customers).

get_or_create costs up to six round trips (SELECT, SAVEPOINT, INSERT, RELEASE, and on a race ROLLBACK TO
and a second SELECT); the gateway does this for every message, so it is a single statement here. Both
PostgreSQL and SQLite (3.24+) understand the syntax.
"""

from __future__ import annotations

from django.db import connection
from django.db.models import Model

# model label and computed columns -> (fields given as parameters, computed fields, SQL)
_INSERT_PLANS: dict[tuple, tuple[list, list, str]] = {}


def insert_unless_exists(instance: Model, conflict: str | None = None) -> bool:
    """Insert the unsaved instance unless a row with the same unique value exists.

    `conflict` names the column whose unique index decides; None means any unique constraint (needed for
    an expression index such as LOWER(email)). Returns True and sets the pk when the row was inserted;
    False (instance left unsaved) when it already existed. Field pre_save hooks (auto_now_add, defaults)
    run as in Model.save().
    """
    meta = instance._meta
    fields = [f for f in meta.concrete_fields if not f.primary_key]
    values = [f.get_db_prep_save(f.pre_save(instance, True), connection) for f in fields]
    quote = connection.ops.quote_name
    target = f"({quote(meta.get_field(conflict).column)})" if conflict else ""
    sql = "INSERT INTO {} ({}) VALUES ({}) ON CONFLICT {} DO NOTHING RETURNING {}".format(  # noqa: S608
        quote(meta.db_table),
        ", ".join(quote(f.column) for f in fields),
        ", ".join(["%s"] * len(fields)),
        target,
        quote(meta.pk.column),
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, values)
        found = cursor.fetchone()
    if found is None:
        return False
    instance.pk = found[0]
    instance._state.adding = False
    instance._state.db = connection.alias
    return True


def update_rows(instances: list[Model], field_names: list[str]) -> None:
    """UPDATE many rows of one model to their own values in one statement (UPDATE ... FROM VALUES).

    QuerySet.bulk_update builds a CASE WHEN per field and row: for a batch of twenty inbound mails it
    spent more CPU composing the statement (over 100 ms) than processing the mails.
    """
    if not instances:
        return
    meta = instances[0]._meta
    fields = [meta.get_field(name) for name in field_names]
    quote = connection.ops.quote_name
    pk_type = meta.pk.rel_db_type(connection) if meta.pk.is_relation else meta.pk.cast_db_type(connection)
    casts = [pk_type] + [f.cast_db_type(connection) for f in fields]
    row_sql = "(" + ", ".join(f"%s::{cast}" for cast in casts) + ")"
    params: list = []
    for instance in instances:
        params.append(instance.pk)
        params += [f.get_db_prep_save(getattr(instance, f.attname), connection) for f in fields]
    columns = [quote(f.column) for f in fields]
    sql = "UPDATE {table} SET {sets} FROM (VALUES {rows}) AS v(pk, {cols}) WHERE {table}.{pk} = v.pk".format(  # noqa: S608
        table=quote(meta.db_table),
        sets=", ".join(f"{c} = v.{c}" for c in columns),
        rows=", ".join([row_sql] * len(instances)),
        cols=", ".join(columns),
        pk=quote(meta.pk.column),
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def insert_row(instance: Model, *, computed: dict[str, str] | None = None) -> None:
    """INSERT the unsaved instance, as Model.save() would, with SQL composed once per model.

    On the mail gateway's path (a ticket, its message and its event per mail) Django's INSERT compiler
    cost more CPU than PostgreSQL spent executing the statement. `computed` maps field names to SQL
    expressions evaluated by the INSERT itself (e.g. the ticket number's nextval()); their values are
    read back with RETURNING. Unlike save(), an auto_now_add field that already has a value keeps it
    (ticket_create computes the SLA clocks from the creation time before it inserts). Models with
    save() overrides or signal receivers must not be inserted this way (the project has none).
    """
    meta = instance._meta
    computed = computed or {}
    key = (meta.label, tuple(computed.items()))
    plan = _INSERT_PLANS.get(key)
    if plan is None:
        plan = _INSERT_PLANS[key] = _insert_plan(meta, computed)
    fields, returned, sql = plan
    instance._prepare_related_fields_for_save(operation_name="save")
    values = [f.get_db_prep_save(_value_for_insert(f, instance), connection) for f in fields]
    with connection.cursor() as cursor:
        cursor.execute(sql, values)
        row = cursor.fetchone()
    instance.pk = row[0]
    for field, value in zip(returned, row[1:], strict=True):
        setattr(instance, field.attname, value)
    instance._state.adding = False
    instance._state.db = connection.alias


def _insert_plan(meta, computed: dict[str, str]) -> tuple[list, list, str]:
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


def _value_for_insert(field, instance: Model):
    if getattr(field, "auto_now_add", False):
        given = getattr(instance, field.attname)
        if given is not None:
            return given
    value = field.pre_save(instance, True)
    if hasattr(value, "resolve_expression"):  # e.g. a db_default without a Python default
        raise ValueError(f"insert_row cannot insert the expression {value!r} for {field}")
    return value
