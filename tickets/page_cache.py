"""A short-lived cache, shared by the web workers (Redis in production, CACHE_URL), of what every agent page
shows but few requests change: the queue counts of each department, the menus, the workspace sidebar and
the failing-mailbox banner.

What is cached and how it stays right:

- **Queue counts** of a department (every queue of the sidebar, the agent's own "mine" count included),
  per agent, at most QUEUE_COUNTS_MAX_AGE seconds (HELPDESK_QUEUE_COUNTS_MAX_AGE, default 5; 0 turns the
  cache off). Counts are stored with their department's *generation token* and used only while the
  department still has it (tokens and values are read in one round trip); every save or delete of a
  ticket (all services: create, reply, status, assignment, transfer — the old department through its
  TRANSFERRED event —, merge, split; the mail gateway and the API go through the same services) replaces
  the token of its department after commit, so the next page load counts afresh. Until the commit, the
  connection that made the change reads that department's counts from the database (it sees its own
  uncommitted change; nobody else does). What bypasses the ORM — the SLA sweep's bulk UPDATE (escalations)
  and tickets becoming overdue as time passes — shows within QUEUE_COUNTS_MAX_AGE seconds.
- **Menus** (colleagues, departments, products of the bulk-action and side-panel menus, the canned
  responses of the reply form, whether the agent manages a department for the navigation), at most
  MENUS_MAX_AGE seconds (default 60), under a *directory* token replaced when a user, membership,
  department, product, canned response or saved workspace is saved or deleted. The forms validate every
  choice against the database.
- **The failing-mailbox banner** (mailgateway.health), at most MAILBOX_BANNER_MAX_AGE seconds (default 10):
  polls record failures with UPDATE statements, so the banner appears within that time; a mailbox saved
  or deleted in the admin shows at once.
- **The saved-workspace sidebar** (its HTML, per agent and language), under the same directory token, at
  most QUEUE_COUNTS_MAX_AGE seconds (and at most SEARCH_COUNTS_MAX_AGE, the age search allows its counts).

Never cached: the ticket rows of a queue, tickets and their conversations, and every access decision
(which departments the agent works in is read on each request). A cache that fails (Redis down) is
skipped: the page computes everything, as without it.
"""

from __future__ import annotations

import logging
import secrets

from django.conf import settings
from django.core.cache import cache
from django.db import transaction

logger = logging.getLogger(__name__)

PREFIX = "helpdesk:pages:"
DIRECTORY = "directory"


def queue_counts_max_age() -> int:
    return getattr(settings, "HELPDESK_QUEUE_COUNTS_MAX_AGE", 5)


def menus_max_age() -> int:
    return getattr(settings, "HELPDESK_MENUS_MAX_AGE", 60)


def banner_max_age() -> int:
    return getattr(settings, "HELPDESK_MAILBOX_BANNER_MAX_AGE", 10)


MAILBOXES = "mailboxes"


# --- Generation tokens ------------------------------------------------------------------------------


def _token_key(scope) -> str:
    return f"{PREFIX}gen:{scope}"


class _AfterCommit:
    """The on_commit callback of one transaction: replaces the tokens of everything it changed, once."""

    def __init__(self):
        self.scopes: set[str] = set()
        self.done = False

    def __call__(self):
        self.done = True
        _replace_tokens(self.scopes)


def _pending() -> _AfterCommit | None:
    """This connection's callback for the transaction in progress, if it changed anything yet.
    (Django drops on_commit callbacks on commit, rollback and the rollback of the savepoint that
    registered them, so a callback still listed belongs to changes that are still pending.)"""
    connection = transaction.get_connection()
    if not connection.in_atomic_block:
        return None
    for _sids, func, *_ in connection.run_on_commit:
        if isinstance(func, _AfterCommit) and not func.done:
            return func
    return None


def changed(*scopes) -> None:
    """Tickets of these departments (ids), or the DIRECTORY, changed: new tokens after commit."""
    scopes = {str(s) for s in scopes if s is not None}
    if not scopes:
        return
    if not transaction.get_connection().in_atomic_block:
        _replace_tokens(scopes)
        return
    pending = _pending()
    if pending is None:
        pending = _AfterCommit()
        transaction.on_commit(pending)
    pending.scopes |= scopes


def _replace_tokens(scopes) -> None:
    try:
        cache.set_many({_token_key(s): secrets.token_hex(6) for s in scopes}, timeout=None)
    except Exception:  # noqa: BLE001 - a cache outage must not fail a committed change; entries expire anyway
        logger.warning("could not replace page cache tokens %s", sorted(scopes), exc_info=True)


def _uncommitted() -> set[str]:
    pending = _pending()
    return pending.scopes if pending is not None else set()


def _get_many(keys: list[str]) -> dict:
    try:
        return cache.get_many(keys)
    except Exception:  # noqa: BLE001 - no cache: compute
        logger.warning("page cache unavailable", exc_info=True)
        return {}


def _set_many(values: dict, timeout: int) -> None:
    try:
        cache.set_many(values, timeout=timeout)
    except Exception:  # noqa: BLE001
        logger.warning("page cache unavailable", exc_info=True)


def cached_per_scope(name: str, scopes: list, compute, *, max_age: int, extra: str = "") -> dict:
    """{scope: value} for each scope (department id or DIRECTORY), the missing ones computed by
    `compute(missing_scopes) -> {scope: value}` in one go and stored. A value is stored with the token its
    scope had when it was read, and used only while the scope still has that token: tokens and values
    are read together, one round trip."""
    if not scopes:
        return {}
    if max_age <= 0:
        return compute(list(scopes))
    uncommitted = _uncommitted()
    cached = [s for s in scopes if str(s) not in uncommitted]
    token_keys = {s: _token_key(s) for s in scopes}
    value_keys = {s: f"{PREFIX}{name}:{extra}:{s}" for s in scopes}
    found = _get_many([token_keys[s] for s in scopes] + [value_keys[s] for s in cached])
    tokens = {s: found.get(token_keys[s], "0") for s in scopes}
    result = {}
    for s in cached:
        entry = found.get(value_keys[s])
        if isinstance(entry, tuple) and len(entry) == 2 and entry[0] == tokens[s]:
            result[s] = entry[1]
    missing = [s for s in scopes if s not in result]
    if missing:
        computed = compute(missing)
        result.update(computed)
        storable = {value_keys[s]: (tokens[s], v) for s, v in computed.items() if str(s) not in uncommitted}
        if storable:
            _set_many(storable, max_age)
    return result


# --- Invalidation hooks ------------------------------------------------------------------------------


def _ticket_saved(sender, instance, **kwargs):
    changed(instance.department_id)


def _event_saved(sender, instance, created, **kwargs):
    # A transfer changes two departments' counts; the ticket's save names the new one, the event the old.
    if created and instance.kind == "transferred" and isinstance(instance.data, dict):
        changed(instance.data.get("old"))


def _directory_saved(sender, instance, update_fields=None, **kwargs):
    if update_fields is not None and set(update_fields) <= {"last_login"}:
        return  # a login changes no menu
    if sender._meta.label == "accounts.User" and not (instance.is_agent or instance.is_superuser):
        return  # customers are in no menu (an agent made a customer again shows within MENUS_MAX_AGE)
    changed(DIRECTORY)


def _directory_deleted(sender, instance, **kwargs):
    changed(DIRECTORY)


def _mailbox_changed(sender, instance, **kwargs):
    changed(MAILBOXES)


def connect_signals() -> None:
    from django.apps import apps
    from django.db.models.signals import post_delete, post_save

    from .models import CannedResponse, Product, Ticket, TicketEvent

    post_save.connect(_ticket_saved, sender=Ticket, dispatch_uid="page_cache_ticket_saved")
    post_delete.connect(_ticket_saved, sender=Ticket, dispatch_uid="page_cache_ticket_deleted")
    post_save.connect(_event_saved, sender=TicketEvent, dispatch_uid="page_cache_event_saved")
    directory = (apps.get_model("accounts", "User"), apps.get_model("departments", "Membership"),
                 apps.get_model("departments", "Department"), Product, CannedResponse,
                 apps.get_model("search", "SavedSearch"))  # fmt: skip
    mailbox = apps.get_model("mailgateway", "Mailbox")
    post_save.connect(_mailbox_changed, sender=mailbox, dispatch_uid="page_cache_mailbox_saved")
    post_delete.connect(_mailbox_changed, sender=mailbox, dispatch_uid="page_cache_mailbox_deleted")
    for model in directory:
        post_save.connect(_directory_saved, sender=model, dispatch_uid=f"page_cache_{model._meta.label}_saved")
        post_delete.connect(_directory_deleted, sender=model, dispatch_uid=f"page_cache_{model._meta.label}_deleted")
